using DataSync.Actors.Hosting;

namespace DataSync.Core.Tests.Cli;

/// <summary>daemon.out, the detached daemon's console: rolled over once full, a bounded number kept; a failed start's lines without stack frames.</summary>
public sealed class DaemonConsoleLogTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("datasync-console-log-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_full_console_log_is_rolled_over_and_only_the_newest_files_are_kept()
    {
        var path = Path.Combine(_folder, "daemon.out");
        for (var start = 1; start <= 6; start++)
        {
            DaemonConsoleLog.RollIfFull(path, limitBytes: 100, keptFiles: 3);
            // Each start writes past the limit, as a daemon.out that kept growing would.
            File.AppendAllText(path, $"start {start}\n" + new string('x', 120) + "\n");
        }

        Assert.Equal(new[] { "daemon.out", "daemon.out.1", "daemon.out.2", "daemon.out.3" }, Directory.GetFiles(_folder).Select(f => Path.GetFileName(f)).Order().ToArray());
        Assert.StartsWith("start 6\n", File.ReadAllText(path));
        Assert.StartsWith("start 5\n", File.ReadAllText(path + ".1"));
        Assert.StartsWith("start 3\n", File.ReadAllText(path + ".3"));
    }

    [Fact]
    public void A_console_log_below_the_limit_is_left_alone()
    {
        var path = Path.Combine(_folder, "daemon.out");
        File.WriteAllText(path, "short\n");

        DaemonConsoleLog.RollIfFull(path, limitBytes: 100, keptFiles: 3);

        Assert.Equal(new[] { "daemon.out" }, Directory.GetFiles(_folder).Select(f => Path.GetFileName(f)).ToArray());
        Assert.Equal(DaemonConsoleLog.LimitBytes, 1024 * 1024);
    }

    [Fact]
    public void A_failed_start_shows_its_own_lines_and_never_stack_frames()
    {
        string[] withOwnLine =
        [
            "[22:01:02 INF] datasync daemon starting (pid 1)",
            "datasync: the local database a@h:1/d refused the password of PG_USER_NAME \"a\": check PG_PASSWORD in the configuration",
        ];
        Assert.Equal([withOwnLine[1]], DaemonConsoleLog.FailureLines(withOwnLine));

        string[] crash =
        [
            "Unhandled exception. System.InvalidOperationException: boom",
            "   at DataSync.Somewhere.Run()",
            "--- End of stack trace from previous location ---",
            "   at Program.<Main>$(String[] args)",
        ];
        Assert.Equal([crash[0]], DaemonConsoleLog.FailureLines(crash));
    }
}
