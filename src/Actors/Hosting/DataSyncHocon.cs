using Akka.Configuration;

namespace DataSync.Actors.Hosting;

/// <summary>The Akka settings in hocon/datasync.hocon, embedded in this assembly.</summary>
public static class DataSyncHocon
{
    public static Config Load()
    {
        using var stream = typeof(DataSyncHocon).Assembly.GetManifestResourceStream("datasync.hocon")
            ?? throw new InvalidOperationException("the embedded resource datasync.hocon is missing from DataSync.Actors");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
