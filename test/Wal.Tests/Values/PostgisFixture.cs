using System.Reflection;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// The PostGIS values captured from a PostgreSQL 15 server with PostGIS 3.3.2 by scripts/capture-postgis-fixture.sh
/// (Values/Fixtures/postgis.tsv, embedded): the embedded PostgreSQL 18 has no PostGIS, and the serialized form is
/// PostGIS's own, the same under any server version.
/// </summary>
public static class PostgisFixture
{
    /// <summary>One captured value: <see cref="Stored"/> as the heap tuple holds it (a TOAST pointer when TOASTed),
    /// <see cref="Datum"/> detoasted, without its varlena header (as pageinspect returns it detoasted), <see cref="Send"/> the server's COPY BINARY field
    /// (null for SQL NULL).</summary>
    public sealed record Value(int Id, string Type, string Label, byte[] Stored, byte[] Datum, byte[]? Send)
    {
        /// <summary>The detoasted value's bytes after its varlena header, what the converter is given.</summary>
        public ReadOnlySpan<byte> Payload => Datum;

        public override string ToString() => $"{Type} {Id}: {Label}";
    }

    /// <summary>The first comment line: PostGIS's and the server's versions.</summary>
    public static string Version { get; private set; } = "";

    public static readonly IReadOnlyList<Value> Values = Load();

    private static List<Value> Load()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("postgis.tsv")
                           ?? throw new InvalidOperationException("postgis.tsv is not embedded");
        using var reader = new StreamReader(stream);
        var values = new List<Value>();
        while (reader.ReadLine() is { } line)
        {
            if (line.StartsWith("# PostGIS", StringComparison.Ordinal)) Version = line[2..];
            if (line.StartsWith('#') || line.Length == 0) continue;
            var fields = line.Split('\t');
            values.Add(new Value(int.Parse(fields[0], System.Globalization.CultureInfo.InvariantCulture), fields[1], fields[2],
                Convert.FromHexString(fields[3]), Convert.FromHexString(fields[4]), fields[5] == "-" ? null : Convert.FromHexString(fields[5])));
        }

        return values;
    }
}
