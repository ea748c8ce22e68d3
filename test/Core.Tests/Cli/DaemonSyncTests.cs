using System.Diagnostics;
using System.Text.RegularExpressions;
using DataSync.Core.Embedded;
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

        var config = Path.Combine(local.Root, "datasync.toml");
        var (_, account) = await TestPostgres.GetAsync();
        await File.WriteAllTextAsync(config, $"""
            PG_PORT = {local.Port}
            PG_USER_NAME = "{EmbeddedLocal.User}"
            PG_PASSWORD = "{local.Password}"
            PG_DB_NAME = "{EmbeddedLocal.Database}"
            PROD_DB_NAME = "{ProductionCluster.Database}"
            ARCHIVE_DIR = "{production.ArchiveDirectory}"
            BASE_BACKUP_DIR = "{production.BackupDirectory}"
            STATE_DIR = "{local.Root}/state"
            CONTROL_PORT = {PostgresServer.FindFreePort()}
            DATA_SYNC_FREQ = 1
            {(account.SwitchesUser ? $"PG_OS_USER = \"{account.UserName}\"" : "")}
            """);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items, notes")).ExitCode);

        var start = await CliRunner.RunAsync(config, "start");
        Assert.True(start.ExitCode == 0, start.Error + start.Out);
        var pid = int.Parse(PidPattern().Match(start.Out).Groups[1].Value);
        try
        {
            await WaitIdenticalAsync(production, local);

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

    private static async Task WaitIdenticalAsync(ProductionCluster production, LocalCluster local)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var same = true;
            foreach (var table in new[] { "items", "notes" })
                same &= await production.QueryScalarAsync<string>(Checksum(table)) == await local.QueryScalarAsync<string>(Checksum(table));
            if (same) return;
            Assert.True(DateTime.UtcNow < deadline, "the local tables did not become identical to production within 90 s");
            await Task.Delay(500);
        }
    }

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();
}
