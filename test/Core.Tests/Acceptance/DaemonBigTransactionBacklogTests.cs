using System.Diagnostics;
using DataSync.Core.Tests.Cli;
using DataSync.Embedded;
using DataSync.TestRig;
using Npgsql;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// A catch-up backlog holding one big transaction (some 170,000 row changes over some twenty 1 MB segments: plain and COPY
/// inserts, upserts, savepoints rolled back and released, key moves, TOASTed values) while other sessions commit small
/// transactions on the rows and keys right next to it, before and after it, and two more big ones run among its records:
/// one begun after it that commits first, one rolled back after its commit. Its commit is spooled when the decoder meets
/// its first rows, so the daemon applies them at their place in the WAL, in parts, before it reaches that commit (the
/// first test checks that it did); the local tables end identical to production, every change counted once, also when
/// the daemon is killed with -9 while it applies them. The other
/// transactions make the order matter: a row they change first and the big one after, a key they delete and it inserts
/// again, a key they insert and it deletes or moves away, keys only its rolled-back subtransactions or the rolled-back
/// transaction used.
/// </summary>
public sealed class DaemonBigTransactionBacklogTests
{
    private const string Ddl = """
        CREATE TABLE orders (id int PRIMARY KEY, tag text NOT NULL, n int NOT NULL, body text);
        CREATE TABLE marks (id int PRIMARY KEY, v int NOT NULL);
        """;

    // Production only: 9,600 characters of md5 hex, which pglz cannot shrink below the TOAST threshold, so they live in the
    // table's TOAST relation (a repeat() of one md5 would compress to a few bytes and stay inline).
    private const string BigValue = """
        CREATE FUNCTION big(seed int) RETURNS text LANGUAGE sql IMMUTABLE
            AS $$ SELECT string_agg(md5(seed || '-' || i), '' ORDER BY i) FROM generate_series(1, 300) i $$;
        """;

    private const string StartingRows = """
        INSERT INTO orders SELECT g, 'start', g, CASE WHEN g % 100 = 0 THEN big(g) ELSE 'small ' || g END FROM generate_series(1, 2000) g;
        INSERT INTO marks SELECT g, g FROM generate_series(1, 500) g;
        """;

    private static readonly Table[] Tables = [new("orders", "id"), new("marks", "id")];

    [Fact]
    public async Task A_big_transaction_in_a_backlog_ends_identical_with_transactions_that_committed_first_on_nearby_rows_and_keys()
    {
        await using var production = await ProductionCluster.StartAsync("big-backlog",
            shape: new ProductionShape { WalSegmentSizeMb = 1, Superuser = "dispatch", Database = "shipping" });
        await using var local = await LocalCluster.StartAsync("big-backlog");
        var config = await BootstrapAndStopAsync(production, local);
        var syncedBefore = await SyncedPerTableAsync(local);
        var archivedBefore = production.ArchivedSegments().Count;

        var changes = await WriteBacklogAsync(production);
        await production.SwitchSegmentAndWaitArchivedAsync();
        var segments = production.ArchivedSegments().Count - archivedBefore;
        Assert.True(segments >= 15, $"the backlog spans only {segments} segment(s)");
        Assert.True(await production.QueryScalarAsync<bool>("SELECT pg_relation_size(reltoastrelid) > 0 FROM pg_class WHERE relname = 'orders'"),
            "orders' big values are not in its TOAST relation");

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(240), failedEndsWait: true);

        await AssertEndStateAsync(production, local, changes, syncedBefore, daemon);
        // Its commit was spooled when the decoder met its first rows: they were applied at their place in the WAL, in parts.
        var log = await File.ReadAllTextAsync(Path.Combine(local.Root, "state", "logs", "datasync.log"));
        Assert.Matches(@"stream: \d+ big transaction\(s\) applied while read, in \d+ part\(s\) ahead of their commit", log);
        await daemon.StopAsync();
    }

    [Fact]
    public async Task Kill_9_while_a_big_backlog_transaction_is_being_applied_loses_nothing_and_applies_nothing_twice()
    {
        await using var production = await ProductionCluster.StartAsync("big-backlog-kill",
            shape: new ProductionShape { WalSegmentSizeMb = 1, Superuser = "clerk", Database = "Ledger" });
        await using var local = await LocalCluster.StartAsync("big-backlog-kill");
        // The WAL the local server writes is then the daemon's alone: it tells when a batch is writing the big transaction.
        await local.ExecuteAsync("ALTER SYSTEM SET autovacuum = off");
        await local.ExecuteAsync("SELECT pg_reload_conf()");
        var config = await BootstrapAndStopAsync(production, local);
        var syncedBefore = await SyncedPerTableAsync(local);
        var changes = await WriteBacklogAsync(production);
        await production.SwitchSegmentAndWaitArchivedAsync();

        var random = new Random(20261207);
        var runs = new List<DaemonRun>();
        try
        {
            // Twice: kill as soon as a local batch has begun writing the big transaction's rows (megabytes of local
            // WAL, nothing of it committed yet), then a moment after; the next start applies it again from the start.
            // The first such kill finds it; the second only if the first came before the batch committed.
            var killedMidApply = 0;
            for (var round = 0; round < 2 && !await BigTransactionCommittedLocallyAsync(local); round++)
            {
                var walBefore = await local.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text");
                runs.Add(await DaemonRun.StartAsync(config, local));
                if (!await WaitApplyingAsync(local, runs[^1], walBefore))
                {
                    // Committed before it was seen applying: this daemon goes as the others do, so the next start is not refused.
                    await KillAsync(runs[^1]);
                    break;
                }

                // The first kill comes at once: on a loaded machine the batch can commit within the random wait (a CI
                // run saw it), and after that commit no kill can land mid-apply any more.
                var wait = random.Next(0, 400);
                if (round > 0) await Task.Delay(wait);
                await KillAsync(runs[^1]);
                if (!await BigTransactionCommittedLocallyAsync(local)) killedMidApply++;
            }

            Assert.True(killedMidApply > 0, "no kill landed while the big transaction was being applied");

            // Then one at a random moment of what is left of the catch-up (fetching, decoding, applying, or done).
            runs.Add(await DaemonRun.StartAsync(config, local));
            await Task.Delay(random.Next(200, 3000));
            await KillAsync(runs[^1]);

            runs.Add(await DaemonRun.StartAsync(config, local));
            await WaitIdenticalAsync(production, local, Tables, runs[^1], TimeSpan.FromSeconds(240), failedEndsWait: true);
            await AssertEndStateAsync(production, local, changes, syncedBefore, runs[^1]);
            await runs[^1].StopAsync();
            var state = Path.Combine(local.Root, "state");
            Assert.Empty(Directory.Exists(Path.Combine(state, "spill")) ? Directory.EnumerateFiles(Path.Combine(state, "spill")) : []);
        }
        finally
        {
            foreach (var run in runs) await run.DisposeAsync();
        }
    }

    /// <summary>Production with its starting rows, a base backup, the daemon's first copy; then the daemon stops, so what comes next is a backlog.</summary>
    private static async Task<string> BootstrapAndStopAsync(ProductionCluster production, LocalCluster local)
    {
        await production.ExecuteAsync(Ddl + BigValue + StartingRows);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "orders, marks")).ExitCode);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await local.QueryScalarAsync<long>("SELECT count(*) FROM datasync_table_state WHERE state = 'syncing'") < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the tables did not reach state syncing" + daemon.LogTail());
            await Task.Delay(250); // Polling the daemon's state, bounded by the deadline above.
        }

        await daemon.StopAsync();
        return config;
    }

    /// <summary>
    /// The backlog, written while the daemon is stopped: session A's one big transaction, in steps, and between them
    /// session B's small ones (autocommit) on the rows and keys next to A's; more of B's after A commits. Returns the row
    /// changes production committed per table, as each statement reported them (rolled-back work not counted).
    /// </summary>
    private static async Task<Dictionary<string, long>> WriteBacklogAsync(ProductionCluster production)
    {
        var changes = new Dictionary<string, long> { ["orders"] = 0, ["marks"] = 0 };
        await using var a = await production.Server.OpenAsync(production.DatabaseName);
        await using var b = await production.Server.OpenAsync(production.DatabaseName);
        await using var c = await production.Server.OpenAsync(production.DatabaseName);
        await using var d = await production.Server.OpenAsync(production.DatabaseName);
        async Task A(string table, string sql) => changes[table] += await ExecuteAsync(a, sql);
        async Task B(string table, string sql) => changes[table] += await ExecuteAsync(b, sql);
        async Task D(string table, string sql) => changes[table] += await ExecuteAsync(d, sql);
        async Task Undone(string sql) => await ExecuteAsync(a, sql);
        async Task C(string sql) => await ExecuteAsync(c, sql);

        await using var big = await a.BeginTransactionAsync();
        // A: 50,000 rows on the even keys 10000..109998.
        await A("orders", "INSERT INTO orders SELECT 10000 + 2 * g, 'a1', g, NULL FROM generate_series(0, 49999) g");

        // B: odd keys between A's (not committed yet) rows; rows and keys A comes back to later.
        await B("orders", "INSERT INTO orders SELECT 10001 + 2 * g, 'b-next', g, NULL FROM generate_series(0, 99) g");
        await B("orders", "UPDATE orders SET tag = 'b-first', n = n + 1000 WHERE id BETWEEN 1 AND 50");
        await B("orders", "DELETE FROM orders WHERE id BETWEEN 1501 AND 1510");
        await B("orders", "INSERT INTO orders SELECT g, 'b-doomed', g, NULL FROM generate_series(5001, 5010) g");
        await B("orders", "INSERT INTO orders VALUES (7000, 'b-moved-away', 7000, NULL)");
        await B("orders", "UPDATE orders SET n = -400, body = big(-400) WHERE id = 400");
        await B("marks", "INSERT INTO marks SELECT g, -g FROM generate_series(600, 610) g");

        // C: another big transaction among A's records, rolled back in the end (after A's commit): none of it may show.
        await using var aborted = await c.BeginTransactionAsync();
        await C("INSERT INTO orders SELECT g, 'c-aborted', g, CASE WHEN g % 1000 = 0 THEN big(g) END FROM generate_series(600000, 609999) g");
        await C("UPDATE marks SET v = -v WHERE id BETWEEN 200 AND 299");
        await C("DELETE FROM orders WHERE id BETWEEN 1800 AND 1850");

        // A: 50,000 more on the even keys 110000..209998; upserts over existing rows, B's rows and new keys.
        await A("orders", "INSERT INTO orders SELECT 110000 + 2 * g, 'a2', g, NULL FROM generate_series(0, 49999) g");
        await A("marks", "INSERT INTO marks SELECT g, g * 10 FROM generate_series(450, 700) g ON CONFLICT (id) DO UPDATE SET v = marks.v + excluded.v");
        await A("orders", "INSERT INTO orders SELECT g, 'a-upsert', g, NULL FROM generate_series(1990, 2100) g " +
                          "ON CONFLICT (id) DO UPDATE SET tag = 'a-upserted', n = orders.n + 1");

        // D: a third one, begun after A and committed before it; A later updates some of its rows.
        await using var overlapping = await d.BeginTransactionAsync();
        await D("orders", "INSERT INTO orders SELECT g, 'd', g, NULL FROM generate_series(700000, 714999) g");

        // B: more rows A updates later; odd keys where A's third insert will go.
        await B("orders", "UPDATE orders SET tag = 'b-second' WHERE id BETWEEN 51 AND 60");
        await B("orders", "INSERT INTO orders SELECT 210001 + 2 * g, 'b-ahead', g, NULL FROM generate_series(0, 99) g");
        await C("INSERT INTO orders SELECT g, 'c-aborted', g, NULL FROM generate_series(610000, 619999) g");

        // A: a subtransaction's work rolled back (inserts, some TOASTed, updates, deletes), then some of its keys inserted again.
        await Undone("SAVEPOINT ghost");
        await Undone("INSERT INTO orders SELECT g, 'ghost', g, big(g) FROM generate_series(8000, 8019) g");
        await Undone("INSERT INTO orders SELECT g, 'ghost', g, NULL FROM generate_series(8020, 8999) g");
        await Undone("UPDATE orders SET tag = 'ghost' WHERE id BETWEEN 100 AND 200");
        await Undone("DELETE FROM orders WHERE id BETWEEN 300 AND 350");
        await Undone("INSERT INTO marks SELECT g, -1 FROM generate_series(900, 999) g");
        await Undone("ROLLBACK TO SAVEPOINT ghost");
        await A("orders", "INSERT INTO orders SELECT g, 'real', g, NULL FROM generate_series(8000, 8499) g");
        await D("orders", "UPDATE orders SET tag = 'd-upd', n = n + 5 WHERE id BETWEEN 1900 AND 1950");
        await overlapping.CommitAsync();

        // A: a released savepoint (kept) holding one rolled back.
        await Undone("SAVEPOINT kept");
        await A("orders", "INSERT INTO orders SELECT g, 'kept', g, NULL FROM generate_series(9000, 9099) g");
        await Undone("SAVEPOINT inner_ghost");
        await Undone("UPDATE orders SET tag = 'inner ghost' WHERE id BETWEEN 9000 AND 9049");
        await Undone("INSERT INTO marks VALUES (950, -2)");
        await Undone("ROLLBACK TO SAVEPOINT inner_ghost");
        await A("orders", "UPDATE orders SET n = -n WHERE id BETWEEN 9050 AND 9099");
        await Undone("RELEASE SAVEPOINT kept");

        // A: 90 subtransactions (more than a backend caches), every third rolled back: 60 rows kept.
        await Undone("""
            DO $$ BEGIN
                FOR i IN 1..90 LOOP
                    BEGIN
                        INSERT INTO marks VALUES (2000 + i, i);
                        IF i % 3 = 0 THEN RAISE EXCEPTION 'undone'; END IF;
                    EXCEPTION WHEN raise_exception THEN NULL;
                    END;
                END LOOP;
            END $$
            """);
        changes["marks"] += 60;

        // B: keys that only rolled-back work of A had used, and keys next to A's.
        await B("marks", "INSERT INTO marks VALUES (2003, 777), (2006, 777), (2091, 777)");
        await B("orders", "INSERT INTO orders SELECT g, 'b-after-ghost', g, NULL FROM generate_series(8500, 8509) g");

        // A: what B committed first, A changes now: updates, a delete of B's inserts, re-inserts of keys B deleted (with
        // TOASTed values), key moves (B's row away, an old row into its key), TOASTed rows updated around their value and
        // with a new one, deleted; many keys of marks moved at once.
        await A("orders", "UPDATE orders SET tag = 'a-final', n = n * 2 WHERE id BETWEEN 1 AND 100");
        await A("orders", "UPDATE orders SET tag = 'a-after-d', n = n * 3 WHERE id BETWEEN 1900 AND 1910");
        await A("orders", "DELETE FROM orders WHERE id BETWEEN 1200 AND 1299");
        await A("orders", "DELETE FROM orders WHERE id BETWEEN 5001 AND 5010");
        await A("orders", "INSERT INTO orders SELECT g, 'a-reborn', g, big(g) FROM generate_series(1501, 1510) g");
        await A("orders", "UPDATE orders SET id = 7001 WHERE id = 7000");
        await A("orders", "UPDATE orders SET id = 7000, tag = 'a-moved-in' WHERE id = 1700");
        await A("orders", "UPDATE orders SET n = n + 1 WHERE id = 400");
        await A("orders", "UPDATE orders SET body = big(-500) WHERE id = 500");
        await A("orders", "DELETE FROM orders WHERE id = 600");
        await A("marks", "UPDATE marks SET id = id + 10000 WHERE id BETWEEN 1 AND 100");

        // A: COPY (multi-insert records), 20,000 rows on the even keys 100000..139998; B's odd ones between them after.
        await using (var copy = await a.BeginTextImportAsync("COPY marks (id, v) FROM STDIN"))
        {
            for (var g = 0; g < 20_000; g++) await copy.WriteAsync($"{100_000 + 2 * g}\t{g}\n");
        }

        changes["marks"] += 20_000;
        await B("marks", "INSERT INTO marks SELECT 100001 + 2 * g, 1000 + g FROM generate_series(0, 99) g");

        // A: 50,000 rows on the even keys 210000..309998 (B's odd ones sit among the first), and a few big values.
        await A("orders", "INSERT INTO orders SELECT 210000 + 2 * g, 'a3', g, NULL FROM generate_series(0, 49999) g");
        await A("orders", "INSERT INTO orders SELECT g, 'a-big', g, big(g) FROM generate_series(400000, 400019) g");
        await big.CommitAsync();
        await aborted.RollbackAsync();

        // B, after A's commit: A's rows (and its own among them) updated and deleted, the key A moved a row into; rows C had changed.
        await B("orders", "UPDATE orders SET tag = 'b-after', n = n + 1 WHERE id BETWEEN 10000 AND 10999");
        await B("orders", "DELETE FROM orders WHERE id BETWEEN 110000 AND 110999 AND id % 4 = 0");
        await B("orders", "UPDATE orders SET body = big(7) WHERE id = 7000");
        await B("orders", "DELETE FROM orders WHERE id IN (7001, 400010)");
        await B("marks", "UPDATE marks SET v = v + 1 WHERE id BETWEEN 120000 AND 120100");
        await B("marks", "UPDATE marks SET v = v + 1 WHERE id BETWEEN 200 AND 210");
        await B("orders", "INSERT INTO orders SELECT g, 'b-after-c', g, NULL FROM generate_series(600000, 600009) g");
        return changes;
    }

    /// <summary>
    /// The end state both tests reach: a few rows whose values say in which order the sessions' changes were applied
    /// (the full tables are already compared by md5), the same row counts, no failure, every change counted once.
    /// </summary>
    private static async Task AssertEndStateAsync(ProductionCluster production, LocalCluster local, Dictionary<string, long> changes,
        Dictionary<string, long> syncedBefore, DaemonRun daemon)
    {
        const string ordersProbe = """
            SELECT string_agg(id || ':' || tag || ':' || n, ' ' ORDER BY id) FROM orders
            WHERE id IN (1, 50, 51, 60, 61, 300, 400, 1501, 1700, 1800, 1900, 1911, 1995, 2050, 5001, 7000, 7001, 8000, 8499, 8500, 8510,
                         9000, 9050, 10000, 10001, 110000, 110002, 210001, 309998, 400010, 400019, 600000, 600010, 700000, 714999)
            """;
        // B (or D) first, then A: A's value; keys B deleted and A re-inserted; B's rows A deleted or moved away; nothing of
        // the rolled-back subtransactions (8510, ghost tags) nor of C (1800 kept, 600010; 600000 B's), the kept subtransaction; B's
        // changes after A's commit on A's rows.
        Assert.Equal(
            "1:a-final:2002 50:a-final:2100 51:a-final:102 60:a-final:120 61:a-final:122 300:start:300 400:start:-399 " +
            "1501:a-reborn:1501 1800:start:1800 1900:a-after-d:5715 1911:d-upd:1916 1995:a-upserted:1996 2050:a-upsert:2050 " +
            "7000:a-moved-in:1700 8000:real:8000 8499:real:8499 8500:b-after-ghost:8500 9000:kept:9000 9050:kept:-9050 " +
            "10000:b-after:1 10001:b-after:1 110002:a2:1 210001:b-ahead:0 309998:a3:49999 400019:a-big:400019 " +
            "600000:b-after-c:600000 700000:d:700000 714999:d:714999",
            await local.QueryScalarAsync<string>(ordersProbe));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM orders WHERE tag IN ('ghost', 'inner ghost', 'c-aborted')"));
        // The TOASTed values: B's kept under A's update that did not touch it, A's new ones, B's after the key move.
        Assert.Equal(
            "400:" + await production.QueryScalarAsync<string>("SELECT md5(big(-400))") + " 500:" + await production.QueryScalarAsync<string>("SELECT md5(big(-500))") +
            " 1501:" + await production.QueryScalarAsync<string>("SELECT md5(big(1501))") + " 7000:" + await production.QueryScalarAsync<string>("SELECT md5(big(7))"),
            await local.QueryScalarAsync<string>("SELECT string_agg(id || ':' || md5(body), ' ' ORDER BY id) FROM orders WHERE id IN (400, 500, 600, 1501, 7000)"));

        const string marksProbe = """
            SELECT string_agg(id || ':' || v, ' ' ORDER BY id) FROM marks
            WHERE id IN (1, 100, 101, 200, 211, 450, 600, 650, 900, 950, 2001, 2003, 2004, 2006, 2089, 2090, 2091, 10001, 10100,
                         100000, 100001, 120000, 139998)
            """;
        Assert.Equal(
            "101:101 200:201 211:211 450:4950 600:5400 650:6500 2001:1 2003:777 2004:4 2006:777 2089:89 2091:777 10001:1 10100:100 " +
            "100000:0 100001:1000 120000:10001 139998:19999",
            await local.QueryScalarAsync<string>(marksProbe));

        foreach (var table in Tables)
        {
            var count = $"SELECT count(*) FROM {table.Name}";
            Assert.Equal(await production.QueryScalarAsync<long>(count), await local.QueryScalarAsync<long>(count));
        }

        Assert.True(await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'") == 0,
            await local.QueryScalarAsync<string>("SELECT coalesce(string_agg(table_name || ': ' || error_detail, E'\\n'), '') FROM data_sync_logs WHERE status = 'FAILED'") + daemon.LogTail());
        // Each change production committed is counted once in the SUCCESS logs: none lost, none applied twice.
        var synced = await SyncedPerTableAsync(local);
        foreach (var (table, made) in changes)
            Assert.True(made == synced[table] - syncedBefore[table], $"{table}: production made {made} row change(s), the logs count {synced[table] - syncedBefore[table]}");
    }

    private static async Task<Dictionary<string, long>> SyncedPerTableAsync(LocalCluster local) =>
        new() { ["orders"] = await RowsSyncedAsync(local, "orders"), ["marks"] = await RowsSyncedAsync(local, "marks") };

    /// <summary>True once the big transaction's last row is committed locally (nothing of it is visible before).</summary>
    private static Task<bool> BigTransactionCommittedLocallyAsync(LocalCluster local) =>
        local.QueryScalarAsync<bool>("SELECT EXISTS (SELECT FROM orders WHERE id = 309998)");

    /// <summary>
    /// Waits until a local session of the daemon holds a write transaction while the local server has written more than
    /// 2 MB of WAL since <paramref name="walBefore"/> and the big transaction is not committed locally: only its rows make
    /// that much (the small transactions of the backlog hold some 500 row changes). False when the big transaction got
    /// committed locally before that was seen.
    /// </summary>
    private static async Task<bool> WaitApplyingAsync(LocalCluster local, DaemonRun daemon, string walBefore)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            Assert.True(Processes.IsRunning(daemon.Pid), "the daemon ended" + daemon.LogTail());
            var seen = await local.QueryScalarAsync<string>($"""
                SELECT CASE WHEN EXISTS (SELECT FROM orders WHERE id = 309998) THEN 'committed'
                            WHEN pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '{walBefore}') > 2 * 1024 * 1024
                                 AND EXISTS (SELECT FROM pg_stat_activity WHERE application_name LIKE 'datasync%' AND backend_xid IS NOT NULL) THEN 'applying'
                            ELSE 'not yet' END
                """);
            if (seen == "applying") return true;
            if (seen == "committed") return false;
            Assert.True(DateTime.UtcNow < deadline, "the daemon was never seen applying the backlog" + daemon.LogTail());
            await Task.Delay(20); // Polling the local server, bounded by the deadline above.
        }
    }

    private static async Task KillAsync(DaemonRun daemon)
    {
        Process.GetProcessById(daemon.Pid).Kill();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Processes.IsRunning(daemon.Pid))
        {
            Assert.True(DateTime.UtcNow < deadline, $"process {daemon.Pid} survived kill -9");
            await Task.Delay(50); // Polling the process, bounded by the deadline above.
        }
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }
}
