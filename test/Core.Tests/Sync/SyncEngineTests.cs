using DataSync.Core.Archive;
using DataSync.Core.Configuration;
using DataSync.Embedded;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>The whole sync without the actors: bootstrap from a base backup, then WAL cycles, then a restart.</summary>
public sealed class SyncEngineTests
{
    private const string Ddl = """
        CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
        CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, mood mood, tags text[], created timestamptz DEFAULT now());
        CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id) ON DELETE CASCADE, amount numeric(12,2), doc jsonb, note text);
        CREATE TABLE audit (id serial PRIMARY KEY, what text);
        CREATE FUNCTION audit_orders() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit (what) VALUES (TG_OP); RETURN NULL; END $$;
        CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE OR DELETE ON orders FOR EACH ROW EXECUTE FUNCTION audit_orders();
        """;

    private static string Checksum(string table) => $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t";

    [Fact]
    public async Task Bootstraps_streams_survives_a_restart_and_applies_each_change_once()
    {
        await using var production = await ProductionCluster.StartAsync("engine");
        await using var local = await LocalCluster.StartAsync("engine");
        await production.ExecuteAsync(Ddl + """
            INSERT INTO customers (id, name, mood, tags) SELECT g, 'c' || g, 'ok', ARRAY['x', g::text] FROM generate_series(1, 300) g;
            INSERT INTO orders SELECT g, 1 + g % 300, g * 1.25, jsonb_build_object('n', g), NULL FROM generate_series(1, 1000) g;
            """);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        // Written after the backup, before the first cycle: the bootstrap's replay must carry it.
        await production.ExecuteAsync("UPDATE orders SET amount = amount + 1 WHERE id <= 100; INSERT INTO customers (id, name) VALUES (1000, 'late');");
        await production.SwitchSegmentAndWaitArchivedAsync();

        await local.ExecuteAsync(Ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "customers, orders");
        var settings = EngineSetup.Settings(local, production);
        var recorder = new ProgressRecorder();
        Task<SyncEngine> NewEngine() => EngineSetup.EngineAsync(settings, dataSource, recorder, memoryLimitBytes: 64 * 1024);

        var engine = await NewEngine();
        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(["public.customers", "public.orders"], first.TablesBootstrapped);
        await AssertSameAsync(production, local);

        // A mixed workload: a large transaction that spills, an aborted one, a savepoint rolled back,
        // 2PC, an upsert, a cascade, a TRUNCATE of both tables, and an open transaction left behind.
        // One command each: in a single multi-statement command, a BEGIN would fold the statements before it into its transaction.
        foreach (var statement in new[]
        {
            "INSERT INTO orders SELECT g, 1 + g % 300, g, jsonb_build_object('big', repeat('y', 200)), repeat('note', 50) FROM generate_series(2001, 6000) g",
            "BEGIN; DELETE FROM orders; ROLLBACK;",
            "BEGIN; UPDATE customers SET mood = 'happy' WHERE id < 50; SAVEPOINT s; DELETE FROM customers; ROLLBACK TO SAVEPOINT s; COMMIT;",
            "BEGIN; UPDATE orders SET note = 'prepared' WHERE id % 10 = 0; PREPARE TRANSACTION 'p1';",
            "COMMIT PREPARED 'p1'",
            "BEGIN; UPDATE orders SET note = 'never' WHERE id = 1; PREPARE TRANSACTION 'p2';",
            "ROLLBACK PREPARED 'p2'",
            "INSERT INTO customers (id, name) VALUES (1, 'upserted') ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
            "DELETE FROM customers WHERE id = 7",
        })
        {
            await production.ExecuteAsync(statement);
        }

        await production.SwitchSegmentAndWaitArchivedAsync();
        var second = await engine.RunCycleAsync(CancellationToken.None);
        Assert.True(second.RowsApplied > 4000, $"applied {second.RowsApplied}; paused {string.Join(",", second.TablesPaused)}; {string.Join(" / ", recorder.Lines)}");
        await AssertSameAsync(production, local);
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM audit")); // local triggers stayed quiet

        var customersBefore = await production.QueryScalarAsync<long>("SELECT count(*) FROM customers");
        var ordersBefore = await production.QueryScalarAsync<long>("SELECT count(*) FROM orders");
        await production.ExecuteAsync("TRUNCATE customers, orders; INSERT INTO customers (id, name) VALUES (5, 'after truncate');");
        await using var open = await production.Server.OpenAsync(ProductionCluster.Database);
        await using var openTransaction = await open.BeginTransactionAsync();
        await using (var pending = new NpgsqlCommand("INSERT INTO customers (id, name) VALUES (6, 'open across the restart')", open, openTransaction))
            await pending.ExecuteNonQueryAsync();
        await production.SwitchSegmentAndWaitArchivedAsync();
        await engine.RunCycleAsync(CancellationToken.None);
        await AssertSameAsync(production, local);
        // What the TRUNCATE removed is counted on its own, not as deleted rows (rows_synced stays the committed row changes).
        Assert.Equal($"{customersBefore}/0", await local.QueryScalarAsync<string>(
            "SELECT sum(rows_truncated) || '/' || sum(rows_deleted) FILTER (WHERE rows_truncated > 0) FROM data_sync_logs WHERE table_name = 'public.customers' AND status = 'SUCCESS'"));
        Assert.Equal(ordersBefore, await local.QueryScalarAsync<long>(
            "SELECT sum(rows_truncated)::bigint FROM data_sync_logs WHERE table_name = 'public.orders' AND status = 'SUCCESS'"));
        Assert.True(customersBefore > 100 && ordersBefore > 4000, $"{customersBefore} customers, {ordersBefore} orders before the TRUNCATE");

        // A new engine (a restarted daemon) continues from the stored state; the open transaction commits now.
        await openTransaction.CommitAsync();
        await production.ExecuteAsync("INSERT INTO orders VALUES (1, 5, 9.99, NULL, 'after restart')");
        await production.SwitchSegmentAndWaitArchivedAsync();
        var restarted = await NewEngine();
        var third = await restarted.RunCycleAsync(CancellationToken.None);
        Assert.Empty(third.TablesBootstrapped);
        Assert.True(third.TablesPaused.Count == 0, string.Join(",", third.TablesPaused) + await local.QueryScalarAsync<string>("SELECT coalesce(string_agg(error_detail, ' | '), '') FROM data_sync_logs WHERE status = 'FAILED'"));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM customers WHERE id = 6"));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM orders WHERE id = 1"));
        await AssertSameAsync(production, local);

        // Idle cycles apply nothing again.
        var idle = await restarted.RunCycleAsync(CancellationToken.None);
        Assert.Equal(0, idle.RowsApplied);
        await AssertSameAsync(production, local);
        Assert.Contains(recorder.Lines, p => p.StartsWith("bootstrapped public.orders", StringComparison.Ordinal));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
    }

    private static async Task AssertSameAsync(ProductionCluster production, LocalCluster local)
    {
        foreach (var table in new[] { "customers", "orders" })
            Assert.Equal(await production.QueryScalarAsync<string>(Checksum(table)), await local.QueryScalarAsync<string>(Checksum(table)));
    }
}
