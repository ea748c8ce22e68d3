using Serilog;
using Serilog.Events;

namespace DataSync.Actors.Hosting;

/// <summary>The daemon's structured log: a size-rolled file under STATE_DIR/logs and the console.</summary>
public static class DaemonLog
{
    public static string FilePath(string stateDirectory) => Path.Combine(stateDirectory, "logs", "datasync.log");

    public static ILogger Create(string stateDirectory) =>
        new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .Enrich.WithProperty("Pid", Environment.ProcessId)
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}")
            .WriteTo.File(
                FilePath(stateDirectory),
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {Message:lj}{NewLine}{Exception}",
                fileSizeLimitBytes: 64L * 1024 * 1024,
                rollOnFileSizeLimit: true,
                retainedFileCountLimit: 10)
            .CreateLogger();
}
