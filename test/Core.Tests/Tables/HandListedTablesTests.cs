using DataSync.Embedded;
using DataSync.Core.Schema;
using DataSync.Core.Tables;
using DataSync.Core.Tests.Sync;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Tables;

/// <summary>
/// Tables listed in <c>tables_to_sync</c> with plain SQL, as the spec's examples suggest, are the same tables
/// the CLI would list: the name is normalized as it enters, so it matches its state row and can be removed.
/// </summary>
public sealed class HandListedTablesTests
{
    [Fact]
    public async Task A_name_written_by_hand_is_stored_as_the_cli_writes_it_and_a_non_name_is_refused()
    {
        await using var local = await LocalCluster.StartAsync("hand-listed-names");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await local.ExecuteAsync("""
            INSERT INTO tables_to_sync (table_name) VALUES ('orders'), ('Sales."Order Lines"'), ('"user"'), ('  Billing . Invoices ');
            """);

        Assert.Equal("public.orders|sales.\"Order Lines\"|public.user|billing.invoices", await local.QueryScalarAsync<string>(
            "SELECT string_agg(table_name, '|' ORDER BY id) FROM tables_to_sync"));
        Assert.Equal(
            [new TableName("public", "orders"), new TableName("sales", "Order Lines"), new TableName("public", "user"), new TableName("billing", "invoices")],
            await new TableRegistry(dataSource).ListAsync());
        // The text form is the one TableName prints, which the state rows are keyed by.
        Assert.Equal(new TableName("public", "user").ToString(), await local.QueryScalarAsync<string>("SELECT table_name FROM tables_to_sync WHERE relation_name = 'user'"));

        var refused = await Assert.ThrowsAsync<PostgresException>(() => local.ExecuteAsync("INSERT INTO tables_to_sync (table_name) VALUES ('a.b.c')"));
        Assert.Contains("'a.b.c' is not a table name", refused.MessageText);
        Assert.Equal("write schema.table, e.g. public.orders", refused.Hint);
        await Assert.ThrowsAsync<PostgresException>(() => local.ExecuteAsync("INSERT INTO tables_to_sync (table_name) VALUES ('\"unterminated')"));
        // Listing the same table again, by either spelling, is the unique violation it should be.
        await Assert.ThrowsAsync<PostgresException>(() => local.ExecuteAsync("INSERT INTO tables_to_sync (table_name) VALUES ('public.ORDERS')"));

        var removed = await new TableRegistry(dataSource).RemoveAsync([new TableName("public", "orders")]);
        Assert.Equal(TableListOutcome.Removed, Assert.Single(removed).Outcome);
    }

    [Fact]
    public async Task A_table_listed_by_hand_as_orders_is_bootstrapped_once_and_syncs_like_public_orders()
    {
        await using var production = await ProductionCluster.StartAsync("hand-listed-sync");
        await using var local = await LocalCluster.StartAsync("hand-listed-sync");
        const string ddl = "CREATE TABLE orders (id int PRIMARY KEY, what text)";
        await production.ExecuteAsync(ddl + "; INSERT INTO orders SELECT g, 'o' || g FROM generate_series(1, 500) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(ddl);
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await local.ExecuteAsync("INSERT INTO tables_to_sync (table_name) VALUES ('orders')");
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource);

        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(["public.orders"], first.TablesBootstrapped);
        await production.ExecuteAsync("UPDATE orders SET what = 'changed' WHERE id % 4 = 0; DELETE FROM orders WHERE id % 9 = 0");
        await production.SwitchSegmentAndWaitArchivedAsync();
        var second = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Empty(second.TablesBootstrapped);

        const string checksum = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM orders t";
        Assert.Equal(await production.QueryScalarAsync<string>(checksum), await local.QueryScalarAsync<string>(checksum));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'BOOTSTRAP'"));
        Assert.Equal("syncing", await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.orders'"));
    }
}
