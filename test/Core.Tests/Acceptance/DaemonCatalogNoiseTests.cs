using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Upstream catalog changes that leave what is synced alone, through the daemon (#14 item 5): GRANT, REVOKE,
/// CREATE TRIGGER, COMMENT ON, CREATE INDEX, ANALYZE and VACUUM FULL of pg_class and pg_attribute themselves,
/// each followed by changes to the synced tables, across segment switches: no table is paused, every table
/// stays identical to production. A column added afterwards still pauses its table, and only it.
/// </summary>
public sealed class DaemonCatalogNoiseTests
{
    private const string LocalDdl = """
        CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric);
        CREATE TABLE items (order_id int, line int, sku text, qty int, PRIMARY KEY (order_id, line));
        """;

    private const string ProductionDdl = LocalDdl + """
        CREATE ROLE reporting;
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
        INSERT INTO orders SELECT g, 'c' || g, g * 1.5 FROM generate_series(1, 500) g;
        INSERT INTO items SELECT g / 4, g % 4, 'sku' || g, g FROM generate_series(4, 2003) g;
        """;

    private static readonly Table[] Tables = [new("orders", "id"), new("items", "order_id, line")];

    [Fact]
    public async Task Grants_triggers_comments_indexes_analyze_and_catalog_rewrites_pause_no_table()
    {
        await using var production = await ProductionCluster.StartAsync("daemon-catalog-noise");
        await using var local = await LocalCluster.StartAsync("daemon-catalog-noise");
        await production.ExecuteAsync(ProductionDdl);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(LocalDdl);

        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1\nSCHEMA_CHANGES = \"pause\"");
        var added = await CliRunner.RunAsync(config, "add-tables", "orders", "items");
        Assert.True(added.ExitCode == 0, added.Error);
        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(180));

        var commands = new[]
        {
            "GRANT SELECT ON orders, items TO reporting",
            "CHECKPOINT", // the next pg_class change carries the page's image instead of the row
            "GRANT INSERT, UPDATE ON orders, items TO reporting",
            "REVOKE UPDATE ON orders FROM reporting",
            "REVOKE ALL ON items FROM reporting",
            "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()",
            "CREATE TRIGGER items_touch AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION touch()",
            "COMMENT ON TABLE orders IS 'orders as placed'",
            "COMMENT ON COLUMN items.sku IS 'stock keeping unit'",
            "CREATE INDEX orders_customer ON orders (customer)",
            "CREATE INDEX items_sku ON items (sku)",
            "ANALYZE orders",
            "ANALYZE",
            "VACUUM orders, items",
            "VACUUM FULL pg_class",
            "GRANT SELECT ON orders TO reporting",
            "VACUUM FULL pg_attribute",
            "CHECKPOINT",
            "VACUUM FULL pg_class",
            "CREATE TRIGGER orders_touch_again AFTER DELETE ON orders FOR EACH ROW EXECUTE FUNCTION touch()",
            "VACUUM FULL pg_attribute",
        };
        var step = 0;
        foreach (var command in commands)
        {
            await production.ExecuteAsync(command);
            step++;
            await production.ExecuteAsync(
                $"INSERT INTO orders VALUES ({1000 + step}, 'after step {step}', {step}); UPDATE orders SET total = total + 1 WHERE id % 20 = {step % 20}; " +
                $"DELETE FROM orders WHERE id = {step}; INSERT INTO items VALUES ({1000 + step}, 1, 'new', {step}); " +
                $"UPDATE items SET qty = -qty WHERE order_id = {10 + step}; DELETE FROM items WHERE order_id = {100 + step}");
            // Every few commands the rest goes to the next segment, so the daemon reads them across switches and runs.
            if (step % 4 == 0) await production.SwitchSegmentAndWaitArchivedAsync();
        }

        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(180));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM datasync_table_state WHERE state <> 'syncing'"));

        // A real definition change after pg_class was rewritten: that table alone is paused, the other goes on.
        await production.ExecuteAsync("VACUUM FULL pg_class");
        await production.ExecuteAsync("ALTER TABLE items ADD COLUMN note text");
        await production.ExecuteAsync("INSERT INTO items VALUES (5000, 1, 'after the column', 1, 'noted'); INSERT INTO orders VALUES (5000, 'after the column', 1)");
        await production.SwitchSegmentAndWaitArchivedAsync();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.items'") != "paused")
        {
            Assert.True(DateTime.UtcNow < deadline, "items was not paused by the added column" + daemon.LogTail());
            await Task.Delay(500);
        }

        await WaitIdenticalAsync(production, local, [Tables[0]], daemon, TimeSpan.FromSeconds(120));
        Assert.Equal("syncing", await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.orders'"));
        Assert.Equal(["public.items"], await FailedTablesAsync(local));
        Assert.Contains("production changed the table's definition (a column was added)",
            await local.QueryScalarAsync<string>("SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED'"));
        await daemon.StopAsync();
    }

    private static async Task<List<string>> FailedTablesAsync(LocalCluster local)
    {
        var tables = await local.QueryScalarAsync<string>("SELECT coalesce(string_agg(table_name, ',' ORDER BY table_name), '') FROM data_sync_logs WHERE status = 'FAILED'");
        return tables.Length == 0 ? [] : [.. tables.Split(',')];
    }
}
