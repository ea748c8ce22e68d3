using DataSync.Core.Sync;
using DataSync.Core.Tests.Cli;
using DataSync.Core.Tests.Sync;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>
/// Several tables bootstrapped together are copied side by side, each in its own local transaction, all from the one
/// paused restore: every table ends identical to production, and each has exactly one BOOTSTRAP row at the same
/// point, with the exact number of rows it had there, although production wrote to all of them during and after the backup.
/// </summary>
public sealed class ParallelBootstrapTests
{
    // Tables of different sizes and shapes; each production transaction below keeps every table's row count as it was.
    private static readonly (string Name, int Rows, string Ddl, string Fill)[] Tables =
    [
        ("big_rows", 60_000, "CREATE TABLE big_rows (id int PRIMARY KEY, grp int NOT NULL, payload text NOT NULL)",
            "INSERT INTO big_rows SELECT g, g % 97, repeat(md5(g::text), 3) FROM generate_series(1, 60000) g"),
        ("mid_rows", 15_000, "CREATE TABLE mid_rows (id bigint PRIMARY KEY, amount numeric(12,2), note text, seen timestamptz)",
            "INSERT INTO mid_rows SELECT g, g * 1.25, CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 15000) g"),
        ("small_rows", 3_000, "CREATE TABLE small_rows (id int PRIMARY KEY, doc text NOT NULL)",
            "INSERT INTO small_rows SELECT g, repeat('x', 3000) || g FROM generate_series(1, 3000) g"),
        ("tiny_rows", 40, "CREATE TABLE tiny_rows (code text PRIMARY KEY, flag boolean, tags text[])",
            "INSERT INTO tiny_rows SELECT 'c' || g, g % 2 = 0, ARRAY['a' || g, 'b'] FROM generate_series(1, 40) g"),
    ];

    [Fact]
    public async Task Tables_bootstrapped_together_are_copied_side_by_side_and_each_ends_identical_with_exact_log_rows()
    {
        await using var production = await ProductionCluster.StartAsync("parallel-bootstrap");
        await using var local = await LocalCluster.StartAsync("parallel-bootstrap");
        foreach (var table in Tables)
        {
            await production.ExecuteAsync(table.Ddl + "; " + table.Fill);
            await local.ExecuteAsync(table.Ddl);
        }

        // Production keeps writing to every table while the backup is taken and after it.
        using var stop = new CancellationTokenSource();
        var writer = WriteAsync(production, stop.Token);
        await Task.Delay(300);
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await Task.Delay(500);

        await using var dataSource = await EngineSetup.LocalAsync(local, string.Join(",", Tables.Select(t => "public." + t.Name)));
        var progress = new ProgressRecorder();
        // Two lanes whatever the machine: the default is one per two cores, which is one lane on a 2-core runner.
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource, progress, bootstrapParallelism: 2);
        await production.SwitchSegmentAndWaitArchivedAsync();
        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.True(first.TablesBootstrapped.Order().SequenceEqual(Tables.Select(t => "public." + t.Name).Order()), string.Join("\n", progress.Lines) + first.Bootstrap?.Message);

        stop.Cancel();
        var written = await writer;
        Assert.True(written > 5, $"production wrote only {written} transactions");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await engine.RunCycleAsync(CancellationToken.None);

        foreach (var table in Tables)
        {
            var checksum = $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table.Name} t";
            Assert.Equal(await production.QueryScalarAsync<string>(checksum), await local.QueryScalarAsync<string>(checksum));
            Assert.Equal((long)table.Rows, await local.QueryScalarAsync<long>($"SELECT count(*) FROM {table.Name}"));
            // COPY FREEZE took: the progress line says so only after the copy that asked for it succeeded.
            Assert.Contains(progress.Lines, l => l.StartsWith($"bootstrapped public.{table.Name}: {table.Rows} rows copied", StringComparison.Ordinal) && l.EndsWith("(frozen)", StringComparison.Ordinal));
        }

        // One BOOTSTRAP row per table, the exact row count, all from the backup's start to the one paused point.
        var rows = await local.QueryScalarAsync<string>("""
            SELECT string_agg(format('%s %s %s', table_name, rows_synced, lsn_from), ';' ORDER BY table_name) FROM data_sync_logs WHERE status = 'BOOTSTRAP'
            """);
        Assert.Equal(string.Join(";", Tables.OrderBy(t => "public." + t.Name, StringComparer.Ordinal).Select(t => $"public.{t.Name} {t.Rows} {backup.StartLsn}")), rows);
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(DISTINCT lsn_to) FROM data_sync_logs WHERE status = 'BOOTSTRAP'"));
        // Side by side: the two largest tables' copy transactions began together (largest first, two lanes), not the second
        // once the first had committed (sync_time is its transaction's start, duration_ms the copy's whole time).
        var apart = await local.QueryScalarAsync<double>("""
            SELECT extract(epoch FROM m.sync_time - b.sync_time)::float8 * 1000 / b.duration_ms
            FROM data_sync_logs b, data_sync_logs m
            WHERE b.status = 'BOOTSTRAP' AND b.table_name = 'public.big_rows' AND m.status = 'BOOTSTRAP' AND m.table_name = 'public.mid_rows'
            """);
        Assert.True(apart < 0.5, $"public.mid_rows began its copy {apart:P0} of public.big_rows's copy time after it: the copies did not run side by side");
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        // Every table went on syncing from that point: its checkpoint is at or past it.
        Assert.Equal(0L, await local.QueryScalarAsync<long>("""
            SELECT count(*) FROM datasync_table_state s
            WHERE s.state <> 'syncing' OR s.checkpoint_lsn < (SELECT max(lsn_to) FROM data_sync_logs WHERE status = 'BOOTSTRAP')
            """));
    }

    /// <summary>Small transactions over all the tables until stopped, each leaving every table's row count unchanged; returns how many committed.</summary>
    private static async Task<int> WriteAsync(ProductionCluster production, CancellationToken stop)
    {
        var done = 0;
        var next = 1_000_000;
        while (!stop.IsCancellationRequested)
        {
            var n = next++;
            await production.ExecuteAsync($"""
                BEGIN;
                UPDATE big_rows SET payload = payload || '+', grp = grp + 1 WHERE id % 500 = {n % 500};
                DELETE FROM big_rows WHERE id = (SELECT min(id) FROM big_rows);
                INSERT INTO big_rows VALUES ({n}, {n % 97}, 'new ' || {n});
                UPDATE mid_rows SET amount = amount + 1, note = NULL WHERE id % 300 = {n % 300};
                DELETE FROM mid_rows WHERE id = (SELECT max(id) FROM mid_rows);
                INSERT INTO mid_rows VALUES ({n}, {n}, 'late', now());
                UPDATE small_rows SET doc = doc || 'y' WHERE id % 50 = {n % 50};
                UPDATE tiny_rows SET flag = NOT flag, tags = tags || 'w{n}'::text WHERE code = 'c' || {n % 40 + 1};
                COMMIT;
                """);
            done++;
            await Task.Delay(20, CancellationToken.None);
        }

        return done;
    }
}
