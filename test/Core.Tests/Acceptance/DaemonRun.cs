using System.Diagnostics;
using System.Text.RegularExpressions;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// A daemon started with <c>datasync start</c> (its own process) for one test: stopped with
/// <c>datasync stop</c>, or killed on dispose if the test failed before that.
/// </summary>
internal sealed partial class DaemonRun : IAsyncDisposable
{
    private readonly string _config;
    private readonly LocalCluster _local;

    private DaemonRun(string config, LocalCluster local, int pid)
    {
        _config = config;
        _local = local;
        Pid = pid;
    }

    public int Pid { get; }

    public static async Task<DaemonRun> StartAsync(string config, LocalCluster local)
    {
        var start = await CliRunner.RunAsync(config, "start");
        Assert.True(start.ExitCode == 0, start.Error + start.Out + LogTail(local));
        return new DaemonRun(config, local, int.Parse(PidPattern().Match(start.Out).Groups[1].Value));
    }

    /// <summary>Stops the daemon and returns how long <c>datasync stop</c> took; the process is gone when it returns.</summary>
    public async Task<TimeSpan> StopAsync()
    {
        var clock = Stopwatch.StartNew();
        var stop = await CliRunner.RunAsync(_config, "stop");
        var took = clock.Elapsed;
        Assert.True(stop.ExitCode == 0, stop.Error + stop.Out);
        Assert.Contains($"datasync stopped (pid {Pid})", stop.Out);
        Assert.False(Processes.IsRunning(Pid), "the daemon process is still alive after stop returned");
        // Whatever the daemon wrote in its whole life, its logs hold no secret.
        var logs = Path.Combine(_local.Root, "state", "logs");
        foreach (var log in Directory.Exists(logs) ? Directory.EnumerateFiles(logs) : [])
            CliRunner.AssertNoPassword(_config, await File.ReadAllTextAsync(log), $"the daemon log {log}");
        return took;
    }

    /// <summary>
    /// The lines of <c>datasync status</c> once its records-synced line reads <paramref name="records"/>: the
    /// daemon counts a stream run when the run ends, a moment after its batches committed.
    /// </summary>
    public async Task<string[]> StatusOnceSyncedAsync(long records)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var status = await CliRunner.RunAsync(_config, "status");
            Assert.True(status.ExitCode == 0, status.Error);
            var lines = status.Out.Split('\n');
            if (lines.Length > 3 && lines[3] == $"records synced: {records}") return lines;
            Assert.True(DateTime.UtcNow < deadline, $"status never said 'records synced: {records}':\n{status.Out}");
            await Task.Delay(250);
        }
    }

    /// <summary>The last lines of the daemon's log, for failure messages.</summary>
    public string LogTail() => LogTail(_local);

    private static string LogTail(LocalCluster local)
    {
        var log = Path.Combine(local.Root, "state", "logs", "datasync.log");
        return File.Exists(log) ? "\ndaemon log:\n" + string.Join('\n', File.ReadLines(log).TakeLast(60)) : "\n(no daemon log)";
    }

    public ValueTask DisposeAsync()
    {
        if (Processes.IsRunning(Pid)) Process.GetProcessById(Pid).Kill();
        return ValueTask.CompletedTask;
    }

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();
}
