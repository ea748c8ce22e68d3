using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// The local database goes down under a running daemon: <c>status</c> still says the daemon is active and that the
/// database is unreachable, <c>stop</c> stops it, and once the database is back a new daemon resumes with nothing
/// lost or applied twice.
/// </summary>
public sealed class DaemonLocalDatabaseOutageTests
{
    private const string Ddl = "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, n int)";
    private static readonly Table[] Tables = [new("items", "id")];

    [Fact]
    public async Task Status_and_stop_reach_a_daemon_whose_local_database_is_down_and_a_restart_resumes_exactly()
    {
        await using var production = await ProductionCluster.StartAsync("local-outage");
        await using var local = await LocalCluster.StartAsync("local-outage");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'i' || g, g FROM generate_series(1, 1000) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items")).ExitCode);

        await using (var daemon = await DaemonRun.StartAsync(config, local))
        {
            await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
            await local.Server.StopAsync();

            var status = await CliRunner.RunAsync(config, "status");
            Assert.Equal(1, status.ExitCode);
            Assert.StartsWith("status: active\n", status.Out);
            Assert.Contains("last successful sync: unknown (the local database is unreachable)\n", status.Out);
            Assert.Matches(@"local database: the local database admin@127\.0\.0\.1:\d+/datasync_local is unreachable: ", status.Out);
            Assert.DoesNotContain(local.Password, status.Out + status.Error);

            // Production goes on meanwhile; nothing of it can be applied until the database is back.
            await production.ExecuteAsync("UPDATE items SET n = n + 1 WHERE id % 3 = 0; DELETE FROM items WHERE id % 10 = 0");
            await production.ExecuteAsync("INSERT INTO items SELECT g, 'late', g FROM generate_series(2001, 2300) g");
            await production.SwitchSegmentAndWaitArchivedAsync();

            await daemon.StopAsync();
        }

        await local.Server.StartAsync();
        await using (var daemon = await DaemonRun.StartAsync(config, local))
        {
            await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
            // Exactly once: 1000 copied, then 333 updated + 100 deleted + 300 inserted, each logged once.
            Assert.Equal(333L + 100 + 300, await RowsSyncedAsync(local, "items"));
            await daemon.StopAsync();
        }
    }
}
