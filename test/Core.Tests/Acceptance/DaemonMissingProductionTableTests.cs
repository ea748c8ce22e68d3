using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Three tables listed, one of which production lacks (add-tables only sees the local database): the bootstrap
/// refuses that one alone (state failed, one FAILED row naming it, the database and backup it was looked for in
/// and what to do) and copies the other two, which go on syncing; no further restore follows.
/// </summary>
public sealed class DaemonMissingProductionTableTests
{
    private const string Ddl = "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL); CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2))";
    private static readonly Table[] Present = [new("items", "id"), new("orders", "id")];

    [Fact]
    public async Task A_table_production_lacks_is_refused_alone_and_the_others_sync()
    {
        await using var production = await ProductionCluster.StartAsync("missing-prod-table");
        await using var local = await LocalCluster.StartAsync("missing-prod-table");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 800) g; " +
            "INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, 500) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl + "; CREATE TABLE notes (id int PRIMARY KEY, body text)");
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items, notes, orders")).ExitCode);
        var log = Path.Combine(local.Root, "state", "logs", "datasync.log");

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Present, daemon, TimeSpan.FromSeconds(120));
        Assert.Equal("failed", await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.notes'"));
        var failed = await local.QueryScalarAsync<string>("SELECT string_agg(table_name || ' | ' || error_detail, E'\\n') FROM data_sync_logs WHERE status = 'FAILED'");
        Assert.DoesNotContain('\n', failed);
        Assert.StartsWith("public.notes | ", failed);
        Assert.Contains($"production's database \"{ProductionCluster.Database}\" in base backup ", failed);
        Assert.Contains("has no table public.notes at ", failed);
        Assert.Contains("datasync resync public.notes", failed);
        Assert.Contains("datasync remove-tables public.notes", failed);
        Assert.Matches(@"archive file [0-9A-F]{24}; LSN [0-9A-F]+/[0-9A-F]+: ", failed);

        // The others go on syncing, and nothing restores the backup again.
        await production.ExecuteAsync("UPDATE items SET name = name || '!' WHERE id % 4 = 0; DELETE FROM orders WHERE id % 9 = 0; INSERT INTO orders VALUES (9001, 1)");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, Present, daemon, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(20));
        Assert.Single(File.ReadLines(log), l => l.Contains("restoring base backup", StringComparison.Ordinal));
        Assert.Equal(2L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'BOOTSTRAP'"));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM notes"));
        var status = await CliRunner.RunAsync(config, "status", "--verbose");
        Assert.Contains("errors: 1\n", status.Out);
        Assert.Contains("table public.notes: state failed", status.Out);
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED' AND table_name <> 'public.notes'"));
        await daemon.StopAsync();
    }
}
