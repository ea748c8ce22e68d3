namespace DataSync.TestRig;

/// <summary>
/// An extension named <c>postgis</c> for the embedded PostgreSQL 18, which has no PostGIS: its types <c>geometry</c> and
/// <c>geography</c> store, print and receive their values as bytea does. What matters to the decoder is there: the types are
/// owned by an extension called postgis (which is how PostGIS's types are recognised), their values are varlenas with
/// storage MAIN and double alignment as PostGIS's are, and a value inserted as <c>'\x…'</c> is stored as exactly those
/// bytes, so PostGIS's serialized form captured from a real PostGIS can be put on a PostgreSQL 18 page. Its receive
/// function keeps whatever bytes it is sent (PostGIS's would parse the EWKB).
/// </summary>
public static class PostgisStandIn
{
    private static readonly Lazy<string> Folder = new(Write);

    /// <summary>The statements that create the extension in the current database (as a superuser): the control file is
    /// found through <c>extension_control_path</c> (PostgreSQL 18), set for the session.</summary>
    public static string CreateSql =>
        $"SET extension_control_path = '$system:{Folder.Value}'; CREATE EXTENSION IF NOT EXISTS postgis; RESET extension_control_path;";

    private static string Write()
    {
        var root = Path.Combine(Path.GetTempPath(), $"datasync-postgis-standin-{Environment.ProcessId}");
        var extension = Path.Combine(root, "extension");
        Directory.CreateDirectory(extension);
        File.WriteAllText(Path.Combine(extension, "postgis.control"), """
            comment = 'DataSync test stand-in for PostGIS: geometry and geography stored as bytea'
            default_version = '0.1'
            relocatable = true
            """);
        File.WriteAllText(Path.Combine(extension, "postgis--0.1.sql"), Types("geometry") + Types("geography"));
        // The server may run as another account than the tests.
        var readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead |
                       UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(root, readable);
        File.SetUnixFileMode(extension, readable);
        foreach (var file in Directory.GetFiles(extension)) File.SetUnixFileMode(file, readable & ~(UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute));
        return root;
    }

    private static string Types(string name) => $"""
        CREATE TYPE {name};
        CREATE FUNCTION {name}_in(cstring) RETURNS {name} AS 'byteain' LANGUAGE internal IMMUTABLE STRICT;
        CREATE FUNCTION {name}_out({name}) RETURNS cstring AS 'byteaout' LANGUAGE internal IMMUTABLE STRICT;
        CREATE FUNCTION {name}_recv(internal) RETURNS {name} AS 'bytearecv' LANGUAGE internal IMMUTABLE STRICT;
        CREATE FUNCTION {name}_send({name}) RETURNS bytea AS 'byteasend' LANGUAGE internal IMMUTABLE STRICT;
        CREATE TYPE {name} (INPUT = {name}_in, OUTPUT = {name}_out, RECEIVE = {name}_recv, SEND = {name}_send,
                            INTERNALLENGTH = VARIABLE, STORAGE = main, ALIGNMENT = double);

        """;
}
