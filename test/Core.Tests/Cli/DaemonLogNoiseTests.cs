using DataSync.Embedded;
using DataSync.Core.Tests.Acceptance;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>
/// A CLI call is a remoting association that opens and closes: routine, so it leaves nothing at warning or error
/// level in the daemon's log (an operator alerts on those), and none of remoting's lifecycle chatter either.
/// </summary>
public sealed class DaemonLogNoiseTests
{
    [Fact]
    public async Task Cli_calls_leave_no_warning_error_or_remoting_chatter_in_the_daemon_log()
    {
        await using var production = await ProductionCluster.StartAsync("log-noise");
        await using var local = await LocalCluster.StartAsync("log-noise");
        const string ddl = "CREATE TABLE quiet (id int PRIMARY KEY, v text); CREATE TABLE later (id int PRIMARY KEY);";
        await production.ExecuteAsync(ddl + "INSERT INTO quiet SELECT g, 'v' || g FROM generate_series(1, 50) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "quiet")).ExitCode);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await SyncedTables.WaitIdenticalAsync(production, local, [new SyncedTables.Table("quiet", "id")], daemon, TimeSpan.FromSeconds(90));
        foreach (var args in new[] { new[] { "status" }, ["status", "-v"], ["add-tables", "later"], ["status", "--verbose"], ["status"] })
        {
            var run = await CliRunner.RunAsync(config, args);
            Assert.True(run.ExitCode == 0, $"datasync {string.Join(' ', args)}: {run.Error}");
        }

        await SyncedTables.WaitIdenticalAsync(production, local, [new SyncedTables.Table("later", "id")], daemon, TimeSpan.FromSeconds(90));
        // Remoting reports a closed association a moment after the client left.
        await Task.Delay(TimeSpan.FromSeconds(2));
        await daemon.StopAsync();

        var log = await File.ReadAllLinesAsync(Path.Combine(local.Root, "state", "logs", "datasync.log"));
        var noisy = log.Where(l => l.Contains("[WRN]") || l.Contains("[ERR]") || l.Contains("Removing receive buffers")
            || l.Contains("Disassociated", StringComparison.OrdinalIgnoreCase) || l.Contains("Association with remote system")).ToList();
        Assert.True(noisy.Count == 0, "the daemon log has:\n" + string.Join('\n', noisy) + "\n\nwhole log:\n" + string.Join('\n', log));
        Assert.Contains(log, l => l.Contains("datasync daemon stopped"));
    }
}
