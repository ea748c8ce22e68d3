using System.Diagnostics;
using System.Text.RegularExpressions;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>The daemon syncing for real: `datasync start`, production writes, the local tables follow, `datasync stop`.</summary>
public sealed partial class DaemonSyncTests
{
    private const string Ddl = """
        CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), doc jsonb);
        CREATE TABLE notes (id int PRIMARY KEY, item_id int REFERENCES items (id) ON DELETE CASCADE, body text);
        """;

    private static string Checksum(string table) => $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t";

    [Fact]
    public async Task Daemon_bootstraps_and_keeps_tables_identical_while_production_writes()
    {
        await using var production = await ProductionCluster.StartAsync("daemon-sync");
        await using var local = await LocalCluster.StartAsync("daemon-sync");
        await production.ExecuteAsync(Ddl + "INSERT INTO items SELECT g, 'i' || g, g, jsonb_build_object('g', g) FROM generate_series(1, 500) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.ExecuteAsync("INSERT INTO notes SELECT g, g, repeat('n', g) FROM generate_series(1, 100) g;");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);

        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items, notes")).ExitCode);

        // This daemon frames segments with a pool of two WAL decoders (the default on 2 cores reads them in order).
        Environment.SetEnvironmentVariable("DATASYNC_WAL_DECODERS", "2");
        CliRunner.Result start;
        try
        {
            start = await CliRunner.RunAsync(config, "start");
        }
        finally
        {
            Environment.SetEnvironmentVariable("DATASYNC_WAL_DECODERS", null);
        }

        Assert.True(start.ExitCode == 0, start.Error + start.Out);
        var pid = int.Parse(PidPattern().Match(start.Out).Groups[1].Value);
        try
        {
            await WaitIdenticalAsync(production, local);
            var log = await File.ReadAllTextAsync(Path.Combine(local.Root, "state", "logs", "datasync.log"));
            Assert.Contains("2 WAL decoder(s) frame segments in parallel", log);
            // The copy started with the daemon, before its actor system, and the bootstrapper took that attempt instead of restoring again.
            Assert.Contains("bootstrapping public.items, public.notes from the newest base backup, while the daemon starts", log);
            // Announced once: the bootstrapper that takes the early attempt does not announce the same copy again.
            Assert.Single(Regex.Matches(log, "bootstrapping public.items, public.notes from the newest base backup"));
            Assert.Single(Regex.Matches(log, "restoring base backup "));
            Assert.Equal(2L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'BOOTSTRAP'"));

            await production.ExecuteAsync("UPDATE items SET price = price * 2 WHERE id % 3 = 0");
            await production.ExecuteAsync("DELETE FROM items WHERE id % 10 = 0"); // cascades to notes upstream
            await production.ExecuteAsync("INSERT INTO items SELECT g, 'late', NULL, NULL FROM generate_series(501, 800) g");
            await production.SwitchSegmentAndWaitArchivedAsync();
            await WaitIdenticalAsync(production, local);

            var status = await CliRunner.RunAsync(config, "status", "--verbose");
            Assert.StartsWith("status: active\n", status.Out);
            Assert.Matches(@"records synced: [1-9]\d*\n", status.Out);
            Assert.Contains("table public.items: state syncing", status.Out);
            Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
            // Per-table counts in the logs equal what production changed after the copy.
            // 166 rows updated (id % 3 = 0 of 1..500), 50 deleted (id % 10 = 0), 300 inserted.
            Assert.Equal(166L + 50 + 300,
                await local.QueryScalarAsync<long>("SELECT coalesce(sum(rows_synced), 0) FROM data_sync_logs WHERE status = 'SUCCESS' AND table_name = 'public.items'"));

            var stop = await CliRunner.RunAsync(config, "stop");
            Assert.True(stop.ExitCode == 0, stop.Error);
        }
        finally
        {
            if (Processes.IsRunning(pid)) Process.GetProcessById(pid).Kill();
        }
    }

    [Fact]
    public async Task A_manual_local_change_pauses_only_its_table_until_resync()
    {
        await using var production = await ProductionCluster.StartAsync("daemon-conflict");
        await using var local = await LocalCluster.StartAsync("daemon-conflict");
        await production.ExecuteAsync(Ddl + "INSERT INTO items SELECT g, 'i' || g, g, NULL FROM generate_series(1, 200) g; INSERT INTO notes SELECT g, g, 'n' FROM generate_series(1, 50) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items notes")).ExitCode);
        var start = await CliRunner.RunAsync(config, "start");
        Assert.True(start.ExitCode == 0, start.Error + start.Out);
        var pid = int.Parse(PidPattern().Match(start.Out).Groups[1].Value);
        try
        {
            await WaitIdenticalAsync(production, local);

            // Someone deletes a synced row by hand; production then updates it.
            await local.ExecuteAsync("SET session_replication_role = replica; DELETE FROM items WHERE id = 7");
            await production.ExecuteAsync("UPDATE items SET name = 'changed' WHERE id = 7");
            await production.ExecuteAsync("INSERT INTO notes VALUES (51, 1, 'still syncing')");
            var segment = await production.SwitchSegmentAndWaitArchivedAsync();

            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED' AND table_name = 'public.items'") == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "no FAILED log for the conflict; daemon log:\n" + DaemonLogTail(local));
                await Task.Delay(500);
            }

            var detail = await local.QueryScalarAsync<string>("SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED' AND table_name = 'public.items'");
            Assert.Contains("table public.items", detail);
            Assert.Contains($"archive file {segment}", detail);
            Assert.Matches(@"LSN [0-9A-F]+/[0-9A-F]+", detail);
            Assert.Contains("the row to update is not in the local table", detail);
            Assert.Equal("paused", await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.items'"));
            // The other table kept syncing.
            await WaitTableIdenticalAsync(production, local, "notes");

            var resync = await CliRunner.RunAsync(config, "resync", "items");
            Assert.True(resync.ExitCode == 0, resync.Error);
            await WaitIdenticalAsync(production, local);
            Assert.Equal("syncing", await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.items'"));
        }
        finally
        {
            if (Processes.IsRunning(pid)) Process.GetProcessById(pid).Kill();
        }
    }

    [Fact]
    public async Task Kill_9_at_any_moment_and_a_restart_lose_nothing_and_apply_nothing_twice()
    {
        await using var production = await ProductionCluster.StartAsync("daemon-kill");
        await using var local = await LocalCluster.StartAsync("daemon-kill");
        await production.ExecuteAsync(Ddl + "INSERT INTO items SELECT g, 'i' || g, g, NULL FROM generate_series(1, 1000) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items, notes")).ExitCode);
        var random = new Random(20261125);
        var pids = new List<int>();

        async Task<int> StartAsync()
        {
            var started = await CliRunner.RunAsync(config, "start");
            Assert.True(started.ExitCode == 0, started.Error + started.Out + DaemonLogTail(local));
            var pid = int.Parse(PidPattern().Match(started.Out).Groups[1].Value);
            pids.Add(pid);
            return pid;
        }

        try
        {
            // First kill: while it bootstraps (the restore is running).
            var pid = await StartAsync();
            await Task.Delay(random.Next(200, 1500));
            Process.GetProcessById(pid).Kill();
            await WaitGoneAsync(pid);

            pid = await StartAsync();
            await WaitIdenticalAsync(production, local);
            long expected = 0;
            for (var round = 0; round < 5; round++)
            {
                // A burst of changes, then a kill at a random moment while the daemon fetches, decodes or applies it.
                var offset = 2000 + round * 1000;
                await production.ExecuteAsync($"INSERT INTO items SELECT g, 'r{round}', g, jsonb_build_object('r', {round}) FROM generate_series({offset}, {offset + 599}) g");
                await production.ExecuteAsync($"UPDATE items SET price = price + 1 WHERE id % 7 = {round}");
                expected += 600 + await production.QueryScalarAsync<long>($"SELECT count(*) FROM items WHERE id % 7 = {round}") + 100;
                await production.ExecuteAsync($"DELETE FROM items WHERE id BETWEEN {offset} AND {offset + 99}");
                await production.SwitchSegmentAndWaitArchivedAsync();
                await Task.Delay(random.Next(50, 2500));
                Process.GetProcessById(pid).Kill();
                await WaitGoneAsync(pid);
                pid = await StartAsync();
            }

            await WaitIdenticalAsync(production, local);
            Assert.Equal(expected, await local.QueryScalarAsync<long>(
                "SELECT coalesce(sum(rows_synced), 0) FROM data_sync_logs WHERE status = 'SUCCESS' AND table_name = 'public.items'"));
            Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
            var stop = await CliRunner.RunAsync(config, "stop");
            Assert.True(stop.ExitCode == 0, stop.Error);
            var state = Path.Combine(local.Root, "state");
            Assert.Empty(Directory.Exists(Path.Combine(state, "restores")) ? Directory.EnumerateDirectories(Path.Combine(state, "restores")) : []);
            Assert.Empty(Directory.Exists(Path.Combine(state, "spill")) ? Directory.EnumerateFiles(Path.Combine(state, "spill")) : []);
        }
        finally
        {
            foreach (var pid in pids.Where(Processes.IsRunning)) Process.GetProcessById(pid).Kill();
        }
    }

    private static async Task WaitGoneAsync(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Processes.IsRunning(pid))
        {
            Assert.True(DateTime.UtcNow < deadline, $"process {pid} survived kill -9");
            await Task.Delay(50);
        }
    }

    private static string DaemonLogTail(LocalCluster local)
    {
        var log = Path.Combine(local.Root, "state", "logs", "datasync.log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(40)) : "(no log)";
    }

    private static async Task WaitTableIdenticalAsync(ProductionCluster production, LocalCluster local, string table)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (await production.QueryScalarAsync<string>(Checksum(table)) != await local.QueryScalarAsync<string>(Checksum(table)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"{table} did not become identical to production within 90 s");
            await Task.Delay(500);
        }
    }

    private static async Task WaitIdenticalAsync(ProductionCluster production, LocalCluster local)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var same = true;
            foreach (var table in new[] { "items", "notes" })
                same &= await production.QueryScalarAsync<string>(Checksum(table)) == await local.QueryScalarAsync<string>(Checksum(table));
            if (same) return;
            Assert.True(DateTime.UtcNow < deadline, "the local tables did not become identical to production within 90 s; the daemon's log ends:\n" + DaemonLogTail(local));
            await Task.Delay(500);
        }
    }

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();
}
