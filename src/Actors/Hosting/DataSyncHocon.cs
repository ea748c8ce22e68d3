using Akka.Configuration;

namespace DataSync.Actors.Hosting;

/// <summary>
/// The Akka and datasync settings of hocon/datasync.hocon. The copy embedded in this assembly is always
/// there; the copy that <c>dotnet publish</c> puts beside the executable (<see cref="InstalledPath"/>) is
/// read first when present, so an installation can be tuned without a rebuild, and what it leaves out
/// falls back to the embedded values.
/// </summary>
public static class DataSyncHocon
{
    public const string FileName = "datasync.hocon";

    /// <summary>The tunable copy beside the installed program, e.g. /opt/datasync/datasync.hocon.</summary>
    public static string InstalledPath => Path.Combine(AppContext.BaseDirectory, FileName);

    public static Config Load()
    {
        var embedded = LoadEmbedded();
        if (!File.Exists(InstalledPath)) return embedded;
        try
        {
            return ConfigurationFactory.ParseString(File.ReadAllText(InstalledPath)).WithFallback(embedded);
        }
        catch (Exception e) when (e is not (IOException or UnauthorizedAccessException))
        {
            throw new InvalidOperationException($"{InstalledPath} cannot be read as HOCON: {e.Message}; correct it, or delete it to use the built-in settings", e);
        }
    }

    private static Config LoadEmbedded()
    {
        using var stream = typeof(DataSyncHocon).Assembly.GetManifestResourceStream(FileName)
            ?? throw new InvalidOperationException("the embedded resource datasync.hocon is missing from DataSync.Actors");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
