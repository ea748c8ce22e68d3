using Serilog;
using Serilog.Events;
using Serilog.Filters;

namespace DataSync.Actors.Hosting;

/// <summary>
/// The daemon's structured log: a size-rolled file under STATE_DIR/logs (with stack traces) and, in the
/// foreground, the console (one line per event, never a stack trace: what an operator reads in the journal).
/// </summary>
public static class DaemonLog
{
    /// <summary>A property that keeps an event out of the console: it goes to the file only.</summary>
    public const string FileOnly = "DataSyncFileOnly";

    public static string FilePath(string stateDirectory) => Path.Combine(stateDirectory, "logs", "datasync.log");

    /// <param name="stateDirectory">STATE_DIR; the file log is under its <c>logs</c> folder.</param>
    /// <param name="console">False for a detached daemon: its console is STATE_DIR/logs/daemon.out, which
    /// keeps only what is written before the log exists or after it is gone (see <see cref="DaemonConsoleLog"/>).</param>
    public static ILogger Create(string stateDirectory, bool console = true)
    {
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            // A CLI call is an association that opens and closes: remoting's reports of that are routine.
            .Filter.ByExcluding(RemoteLifecycle.IsRoutine)
            .Enrich.WithProperty("Pid", Environment.ProcessId)
            .WriteTo.File(
                FilePath(stateDirectory),
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {Message:lj}{NewLine}{Exception}",
                fileSizeLimitBytes: 64L * 1024 * 1024,
                rollOnFileSizeLimit: true,
                retainedFileCountLimit: 10);
        if (console)
        {
            configuration = configuration.WriteTo.Logger(sub => sub
                .Filter.ByExcluding(Matching.WithProperty(FileOnly))
                .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}"));
        }

        return configuration.CreateLogger();
    }
}
