using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Sync;

/// <summary>
/// A backlog of many small transactions over several segments, worked off in batches that span them: the same rows
/// updated thousands of times (pgbench's tellers), rows inserted and deleted again, keys deleted and inserted again,
/// keys moved and moved back, all netted within rounds that cover many transactions. The tables end identical and
/// every change production made is counted once.
/// </summary>
public sealed class BacklogNettingTests
{
    private const string Ddl = """
        CREATE TABLE counters (id int PRIMARY KEY, n int NOT NULL, note text);
        CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, body text);
        """;

    // Not synced: what each transaction did, counted by the transaction itself.
    private const string Churn = """
        CREATE TABLE tally (tbl text, kind text, n bigint);
        CREATE PROCEDURE churn(total int) LANGUAGE plpgsql AS $$
        DECLARE
            c bigint;
        BEGIN
            FOR i IN 1..total LOOP
                -- Four hot rows, updated by every transaction.
                UPDATE counters SET n = n + i, note = 'tx ' || i WHERE id = i % 4;
                GET DIAGNOSTICS c = ROW_COUNT; INSERT INTO tally VALUES ('counters', 'u', c);
                -- A new row each time; every third transaction deletes the one the previous made.
                INSERT INTO items VALUES (100000 + i, i % 7, 'new ' || i);
                INSERT INTO tally VALUES ('items', 'i', 1);
                IF i % 3 = 0 THEN
                    DELETE FROM items WHERE id = 100000 + i - 1;
                    GET DIAGNOSTICS c = ROW_COUNT; INSERT INTO tally VALUES ('items', 'd', c);
                END IF;
                -- Two transactions after that, the key comes back with another image.
                IF i % 3 = 2 AND i > 3 THEN
                    INSERT INTO items VALUES (100000 + i - 3, -1, 'again ' || i);
                    INSERT INTO tally VALUES ('items', 'i', 1);
                END IF;
                -- Base rows change key, are updated under the new key, and some move back.
                IF i % 11 = 0 AND i <= 2000 THEN
                    UPDATE items SET id = id + 500000, body = 'moved ' || i WHERE id = i;
                    GET DIAGNOSTICS c = ROW_COUNT; INSERT INTO tally VALUES ('items', 'u', c);
                END IF;
                IF i % 11 = 5 AND i > 11 AND i <= 2005 THEN
                    UPDATE items SET grp = grp + 1000 WHERE id = i - 5 + 500000;
                    GET DIAGNOSTICS c = ROW_COUNT; INSERT INTO tally VALUES ('items', 'u', c);
                END IF;
                IF i % 22 = 9 AND i > 22 AND i <= 2009 THEN
                    UPDATE items SET id = id - 500000 WHERE id = i - 9 + 500000;
                    GET DIAGNOSTICS c = ROW_COUNT; INSERT INTO tally VALUES ('items', 'u', c);
                END IF;
                -- Base rows deleted, their keys inserted again later.
                IF i % 17 = 0 AND i <= 2000 THEN
                    DELETE FROM items WHERE id = 3000 + i;
                    GET DIAGNOSTICS c = ROW_COUNT; INSERT INTO tally VALUES ('items', 'd', c);
                END IF;
                IF i % 17 = 8 AND i > 17 AND i <= 2008 THEN
                    INSERT INTO items VALUES (3000 + i - 8, 99, 'reborn ' || i);
                    INSERT INTO tally VALUES ('items', 'i', 1);
                END IF;
                COMMIT;
            END LOOP;
        END $$;
        """;

    private static string Checksum(string table) => $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t";

    [Fact]
    public async Task A_backlog_of_small_transactions_nets_over_many_of_them_and_counts_each_change_once()
    {
        // 1 MiB segments: a few thousand small transactions make a backlog of several of them.
        await using var production = await ProductionCluster.StartAsync("backlog-netting", shape: new ProductionShape { WalSegmentSizeMb = 1 });
        await using var local = await LocalCluster.StartAsync("backlog-netting");
        await production.ExecuteAsync(Ddl + Churn + """
            INSERT INTO counters SELECT g, 0, 'start' FROM generate_series(0, 3) g;
            INSERT INTO items SELECT g, g % 5, 'base ' || g FROM generate_series(1, 6000) g;
            """);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await local.ExecuteAsync(Ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "counters, items");
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource);
        var bootstrap = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(["public.counters", "public.items"], bootstrap.TablesBootstrapped);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await engine.RunCycleAsync(CancellationToken.None);
        var logsBefore = await local.QueryScalarAsync<string>("SELECT clock_timestamp()::text");
        var syncedBefore = await SyncedAsync(local);

        // The backlog: 3000 transactions while the engine does not run, then archived.
        var archivedBefore = production.ArchivedSegments().Count;
        await production.ExecuteAsync("CALL churn(3000)");
        await production.SwitchSegmentAndWaitArchivedAsync();
        var segments = production.ArchivedSegments().Count - archivedBefore;
        Assert.True(segments >= 3, $"the backlog spans {segments} segment(s)");

        var caughtUp = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Empty(caughtUp.TablesPaused);
        foreach (var table in new[] { "counters", "items" })
            Assert.Equal(await production.QueryScalarAsync<string>(Checksum(table)), await local.QueryScalarAsync<string>(Checksum(table)));

        // Every change production made, counted once, whatever netting made of it.
        foreach (var (table, name) in new[] { ("counters", "public.counters"), ("items", "public.items") })
        {
            foreach (var (kind, column) in new[] { ("i", "rows_inserted"), ("u", "rows_updated"), ("d", "rows_deleted") })
            {
                var made = await production.QueryScalarAsync<long>($"SELECT coalesce(sum(n), 0)::bigint FROM tally WHERE tbl = '{table}' AND kind = '{kind}'");
                var logged = await local.QueryScalarAsync<long>(
                    $"SELECT coalesce(sum({column}), 0)::bigint FROM data_sync_logs WHERE sync_time > '{logsBefore}'::timestamptz AND status = 'SUCCESS' AND table_name = '{name}'");
                Assert.True(made == logged, $"{name} {column}: production made {made}, the logs count {logged}");
            }

            var total = await production.QueryScalarAsync<long>($"SELECT sum(n)::bigint FROM tally WHERE tbl = '{table}'");
            Assert.Equal(total, (await SyncedAsync(local))[name] - syncedBefore[name]);
        }

        Assert.Equal(3000L, await production.QueryScalarAsync<long>("SELECT sum(n)::bigint FROM tally WHERE tbl = 'counters'"));
        // The backlog's batches span segments: fewer commits of the hot table than segments read.
        var batches = await local.QueryScalarAsync<long>($"SELECT count(*) FROM data_sync_logs WHERE sync_time > '{logsBefore}'::timestamptz AND status = 'SUCCESS' AND table_name = 'public.counters'");
        Assert.InRange(batches, 1, segments - 1);
    }

    [Fact]
    public async Task A_backlog_of_more_row_changes_than_a_batch_took_before_commits_once_with_every_update_netted()
    {
        // 26 transactions of 10,000 updates over 50,000 rows (each row updated five or six times): 260,000 row changes in
        // about two 16 MB segments, more than the 200,000 at which a batch used to end: one batch now, netted in rounds
        // that each cover several transactions, and every update counted once.
        const string table = "CREATE TABLE hot (id int PRIMARY KEY, n int NOT NULL, note text);";
        await using var production = await ProductionCluster.StartAsync("backlog-batch");
        await using var local = await LocalCluster.StartAsync("backlog-batch");
        await production.ExecuteAsync(table + "INSERT INTO hot SELECT g, 0, 'start' FROM generate_series(1, 50000) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await local.ExecuteAsync(table);
        await using var dataSource = await EngineSetup.LocalAsync(local, "hot");
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource);
        await engine.RunCycleAsync(CancellationToken.None);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await engine.RunCycleAsync(CancellationToken.None);
        var logsBefore = await local.QueryScalarAsync<string>("SELECT clock_timestamp()::text");

        for (var t = 0; t < 26; t++)
        {
            var from = t * 10_000 % 50_000 + 1;
            await production.ExecuteAsync($"UPDATE hot SET n = n + {t + 1}, note = 'tx {t}' WHERE id BETWEEN {from} AND {from + 9_999}");
        }

        await production.SwitchSegmentAndWaitArchivedAsync();
        var caughtUp = await engine.RunCycleAsync(CancellationToken.None);

        Assert.Empty(caughtUp.TablesPaused);
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum("hot")), await local.QueryScalarAsync<string>(Checksum("hot")));
        var where = $"sync_time > '{logsBefore}'::timestamptz AND status = 'SUCCESS' AND table_name = 'public.hot'";
        Assert.Equal(260_000L, await local.QueryScalarAsync<long>($"SELECT sum(rows_updated)::bigint FROM data_sync_logs WHERE {where}"));
        // Usually one batch; a route also ends after 10 s (a heavily loaded machine), which closes the batch there too.
        Assert.InRange(await local.QueryScalarAsync<long>($"SELECT count(*) FROM data_sync_logs WHERE {where}"), 1, 2);
    }

    private static async Task<Dictionary<string, long>> SyncedAsync(LocalCluster local)
    {
        var text = await local.QueryScalarAsync<string>("SELECT string_agg(table_name || '=' || rows_synced, ',') FROM datasync_table_state");
        return text.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
