using System.Diagnostics;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

public sealed partial class DaemonSyncTests
{
    /// <summary>
    /// The daemon's first copy starts before its actor system (the early bootstrap) and runs among the daemon's running
    /// bootstraps: a stop while it copies stops its temporary restore (a copy of production) and commits nothing for the
    /// table, and the next start copies it whole. A local session holding the table keeps the copy waiting (for the lock its
    /// emptying of the local table needs) until the stop comes, whatever the machine's speed.
    /// </summary>
    [Fact]
    public async Task A_stop_during_the_first_copy_stops_its_restore_and_the_next_start_copies_the_table_whole()
    {
        const string ddl = "CREATE TABLE \"Wide Rows\" (id bigint PRIMARY KEY, body text NOT NULL);";
        const string checksum = "SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '') FROM \"Wide Rows\" t";
        await using var production = await ProductionCluster.StartAsync("daemon-stop-copy");
        await using var local = await LocalCluster.StartAsync("daemon-stop-copy");
        await production.ExecuteAsync(ddl + "INSERT INTO \"Wide Rows\" SELECT g, repeat(md5(g::text), 8) FROM generate_series(1, 50000) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "\"Wide Rows\"")).ExitCode);
        var restores = Path.Combine(local.Root, "state", "restores");
        var log = Path.Combine(local.Root, "state", "logs", "datasync.log");

        await using var reader = await local.Server.OpenAsync(EmbeddedLocal.Database);
        await using (var holding = new Npgsql.NpgsqlCommand("BEGIN; SELECT count(*) FROM \"Wide Rows\"", reader)) await holding.ExecuteNonQueryAsync();

        var start = await CliRunner.RunAsync(config, "start");
        Assert.True(start.ExitCode == 0, start.Error + start.Out);
        var pid = int.Parse(PidPattern().Match(start.Out).Groups[1].Value);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await local.QueryScalarAsync<long>($"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> {reader.ProcessID}") == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "the first copy did not come to wait for the local table:\n" + DaemonLogTail(local));
                await Task.Delay(50);
            }

            Assert.Contains("while the daemon starts", File.ReadAllText(log), StringComparison.Ordinal);
            Assert.True(Directory.EnumerateFileSystemEntries(restores).Any(), "the copy waits without a temporary restore");

            var stopping = Stopwatch.StartNew();
            var stop = await CliRunner.RunAsync(config, "stop");
            Assert.True(stop.ExitCode == 0, stop.Error + stop.Out);
            Assert.False(Processes.IsRunning(pid), "the daemon still runs after its stop");
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(30), $"the stop took {stopping.Elapsed}");

            // Nothing of the copy is left: no restore folder, no restore server, no row committed for the table.
            Assert.True(!Directory.Exists(restores) || !Directory.EnumerateFileSystemEntries(restores).Any(),
                "a temporary restore was left: " + string.Join(", ", Directory.EnumerateFileSystemEntries(restores)));
            Assert.Empty(Processes.Naming(restores));
            Assert.True(await local.QueryScalarAsync<long>("SELECT count(*) FROM \"Wide Rows\"") == 0, "the copy was committed:\n" + DaemonLogTail(local));
            await using (var release = new Npgsql.NpgsqlCommand("COMMIT", reader)) await release.ExecuteNonQueryAsync();
        }
        finally
        {
            if (Processes.IsRunning(pid)) Process.GetProcessById(pid).Kill();
        }

        // The next start finds nothing to clean up and copies the table whole.
        var again = await CliRunner.RunAsync(config, "start");
        Assert.True(again.ExitCode == 0, again.Error + again.Out);
        var pidAgain = int.Parse(PidPattern().Match(again.Out).Groups[1].Value);
        try
        {
            var expected = await production.QueryScalarAsync<string>(checksum);
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (await local.QueryScalarAsync<string>(checksum) != expected)
            {
                Assert.True(DateTime.UtcNow < deadline, "the table was not copied after the restart:\n" + DaemonLogTail(local));
                await Task.Delay(500);
            }

            Assert.DoesNotContain("a temporary restore (a copy of production) left by an earlier run", File.ReadAllText(log), StringComparison.Ordinal);
            Assert.Equal(0, (await CliRunner.RunAsync(config, "stop")).ExitCode);
        }
        finally
        {
            if (Processes.IsRunning(pidAgain)) Process.GetProcessById(pidAgain).Kill();
        }
    }
}
