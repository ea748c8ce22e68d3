using System.CommandLine;
using System.Diagnostics;
using DataSync.Actors.Hosting;
using DataSync.Core.IO;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync start</c>: runs the sync daemon, detached (default) or in the foreground.</summary>
public static class StartCommand
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Set for the daemon process a detached start runs, whose console is daemon.out.</summary>
    private const string DetachedVariable = "DATASYNC_DETACHED";

    public static Command Build(CliContext context)
    {
        var foreground = new Option<bool>("--foreground") { Description = "Stay attached to the terminal (for systemd, containers and tests) instead of detaching." };
        var command = new Command("start", DataSyncCli.Describe(
            "Start the sync daemon. It detaches and returns once it is up, printing its pid and log file, unless --foreground is given."));
        command.Options.Add(foreground);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            var settings = context.Settings;
            // Something on CONTROL_PORT that is not our daemon does not stop a start: the daemon then says the port is taken.
            if (await ConnectWhileStartingAsync(context).ConfigureAwait(false) is { } running)
            {
                await running.Client.DisposeAsync().ConfigureAwait(false);
                context.Fail($"datasync is already running (pid {running.Status.ProcessId}, since {running.Status.StartTime:u}); stop it first with 'datasync stop'");
                return ExitCodes.Failure;
            }

            if (parse.GetValue(foreground))
            {
                // A daemon that `start` detached has daemon.out for a console: its log goes to the file alone.
                await DaemonHost.RunAsync(settings, console: context.Environment(DetachedVariable) != "1", cancellationToken).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            return await StartDetachedAsync(context, cancellationToken).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>
    /// Starts <c>datasync start --foreground</c> in a new session (so it outlives this terminal), with its
    /// console output appended to STATE_DIR/logs/daemon.out (rolled over when full, see <see cref="DaemonConsoleLog"/>),
    /// and waits until it answers on the control channel.
    /// </summary>
    private static async Task<int> StartDetachedAsync(CliContext context, CancellationToken cancellationToken)
    {
        var settings = context.Settings;
        var logs = Path.GetDirectoryName(DaemonLog.FilePath(settings.StateDir))!;
        foreach (var repair in await StateDirectory.SecureAsync(settings.StateDir, StateDirectory.AccountFor(settings.PgOsUser), cancellationToken).ConfigureAwait(false))
            context.Error.WriteLine($"datasync: warning: {repair}");
        Directory.CreateDirectory(logs, StateDirectory.FolderMode(StateDirectory.AccountFor(settings.PgOsUser)) & ~UnixFileMode.SetGroup);
        var consoleLog = DaemonConsoleLog.PathIn(settings.StateDir);
        DaemonConsoleLog.RollIfFull(consoleLog);
        var consoleLogStart = File.Exists(consoleLog) ? new FileInfo(consoleLog).Length : 0;

        var info = new ProcessStartInfo("setsid") { UseShellExecute = false };
        info.ArgumentList.Add("sh");
        info.ArgumentList.Add("-c");
        // The umask makes the console log and everything the daemon creates private to its user (see StateDirectory).
        var umask = Convert.ToString(StateDirectory.CreationMask(Environment.IsPrivilegedProcess), 8).PadLeft(3, '0');
        info.ArgumentList.Add($"umask {umask}; exec \"$@\" >>\"$DATASYNC_CONSOLE_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add("datasync-daemon");
        foreach (var part in SelfCommandLine()) info.ArgumentList.Add(part);
        info.ArgumentList.Add("start");
        info.ArgumentList.Add("--foreground");
        info.Environment["DATASYNC_CONSOLE_LOG"] = consoleLog;
        info.Environment["DATA_SYNC_CONFIG"] = settings.SourceFile;
        info.Environment[DetachedVariable] = "1";

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the daemon process");
        // Polls another process (the detached daemon) until it answers or exits, with a deadline: nothing tells us sooner.
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                // The daemon said what failed in one line of its own; that line is repeated, never a stack trace.
                var said = DaemonConsoleLog.FailureLines(ReadFrom(consoleLog, consoleLogStart));
                foreach (var line in said) context.Error.WriteLine(line.StartsWith("datasync: ", StringComparison.Ordinal) ? line : "datasync:   " + line);
                context.Fail($"the daemon exited during start-up (code {process.ExitCode}); details in {DaemonLog.FilePath(settings.StateDir)}");
                return ExitCodes.Failure;
            }

            if (await ConnectWhileStartingAsync(context).ConfigureAwait(false) is { } up)
            {
                await up.Client.DisposeAsync().ConfigureAwait(false);
                context.Out.WriteLine($"datasync started (pid {up.Status.ProcessId}); log: {DaemonLog.FilePath(settings.StateDir)}");
                return ExitCodes.Ok;
            }

            // Polling, with the start's deadline, for the new process to answer: it has no way to tell this one it is up.
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }

        context.Fail($"the daemon (pid {process.Id}) did not answer within {StartTimeout.TotalSeconds} s; see {consoleLog} and {DaemonLog.FilePath(settings.StateDir)}");
        return ExitCodes.Failure;
    }

    /// <summary>
    /// Our daemon if it answers. While one starts, its port may listen before its control endpoint exists, and the
    /// token file read may still be the previous run's: a failed handshake then means "not yet", not "someone else".
    /// </summary>
    private static async Task<(Actors.Control.DaemonClient Client, Messages.Control.StatusReply Status)?> ConnectWhileStartingAsync(CliContext context)
    {
        try
        {
            return await DaemonOrDatabase.ConnectAsync(context).ConfigureAwait(false);
        }
        catch (NotOurDaemonException)
        {
            return null;
        }
    }

    /// <summary>How to run this same program again: the apphost itself, or <c>dotnet datasync.dll</c>.</summary>
    private static IEnumerable<string> SelfCommandLine()
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program is running");
        if (Path.GetFileName(processPath) == "datasync") return [processPath];
        // Run through the dotnet host: `dotnet run`, `dotnet datasync.dll`, or a test host calling in.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
            : Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
        return [dotnet, typeof(DataSyncCli).Assembly.Location];
    }

    private static List<string> ReadFrom(string path, long offset)
    {
        if (!File.Exists(path)) return [];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(Math.Min(offset, stream.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }
}
