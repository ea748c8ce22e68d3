using System.Diagnostics;
using DataSync.Embedded;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// Section 2: commit on production → rows visible locally, DataSync's daemon (archive → decode → apply)
/// against native logical replication (publication → subscription with streaming = parallel), both
/// consuming the same workloads in the same run at the same time. After each workload's last commit
/// the suite switches the WAL segment at once, so archive_timeout plays no part. Those rows show the
/// latency structure (native applies while production writes); the catch-up rows at the end show apply
/// speed: each workload again as a backlog that both consumers, held back while it ran, work off, with the
/// local server's own set-based update of the same rows as the update backlog's ceiling, and last the same
/// mixed backlog at three sizes (does the apply time grow linearly).
/// </summary>
internal static class ApplySection
{
    private const string Name = "2 apply";

    private const string BulkDdl = "CREATE TABLE bulk_rows (id int PRIMARY KEY, grp int NOT NULL, name text, amount numeric(12,2), version int NOT NULL);";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);

    public static async Task RunAsync(SuiteOptions options, DatasyncCli cli, ResultTable table)
    {
        var rows = options.Rows;
        var scale = Math.Max(1, options.Clients);
        var ddl = BulkDdl + SmallTransactions.Ddl + MixedBacklog.Ddl;
        string[] tables = ["bulk_rows", .. SmallTransactions.Tables, MixedBacklog.Table];

        await using var production = await ProductionCluster.StartAsync("bench-apply", "off", new Dictionary<string, string>
        {
            ["max_wal_size"] = "'8GB'",
            ["checkpoint_timeout"] = "'1h'",
        });
        await production.ExecuteAsync(ddl + SmallTransactions.Load(scale));
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();

        await using var ours = await SyncedLocal.CreateAsync("bench-apply", production, cli, ddl, tables, options.ProfileDirectory);
        await using var native = await NativeSubscriber.StartAsync("bench-native", production, ddl, tables);
        var bootstrapClock = Stopwatch.StartNew();
        var daemon = ours.StartDaemon();
        await Visibility.WaitAsync(ours.Local.ConnectionString, $"SELECT count(*) = {100_000 * scale} FROM pgbench_accounts", bootstrapClock, Timeout, "datasync bootstrap", ours.Diagnostics, Visibility.DataSyncFailures);
        Console.WriteLine($"datasync bootstrapped the apply tables in {bootstrapClock.Elapsed.TotalSeconds:F1} s (daemon pid {daemon.Pid})");
        daemon.ResetSampledPeak();

        var measure = new Measure(production, ours, native, table);
        var insert = new Workload(Format.Invariant($"insert {rows:N0} rows, one transaction"), "≥ 2x", 2,
            () => production.ExecuteAsync($"INSERT INTO bulk_rows SELECT g, g % 100, 'item ' || g, g * 0.5, 0 FROM generate_series(1, {rows}) g"),
            $"SELECT EXISTS (SELECT 1 FROM bulk_rows WHERE id = {rows})", ["bulk_rows"]);
        if (options.CatchUps is null) await measure.RunAsync(insert);

        var update = new Workload(Format.Invariant($"update {rows:N0} rows in 10k-row transactions"), "≥ 1.6x", 1.6, async () =>
            {
                for (var from = 1; from <= rows; from += 10_000)
                    await production.ExecuteAsync($"UPDATE bulk_rows SET version = 1, amount = amount + 1 WHERE id BETWEEN {from} AND {Math.Min(rows, from + 9_999)}");
            },
            $"SELECT coalesce((SELECT version FROM bulk_rows WHERE id = {rows}), 0) = 1", ["bulk_rows"]);
        if (options.CatchUps is null) await measure.RunAsync(update);

        var delete = new Workload(Format.Invariant($"delete {rows:N0} rows, one transaction"), "", null,
            () => production.ExecuteAsync("DELETE FROM bulk_rows"),
            $"SELECT NOT EXISTS (SELECT 1 FROM bulk_rows WHERE id = {rows})", ["bulk_rows"]);
        if (options.CatchUps is null)
        {
            await measure.RunAsync(delete);
            var peak = daemon.PeakRssKb();
            table.Add(new ResultRow(Name, "daemon peak RSS (VmHWM) over the bulk workloads", Format.Invariant($"{peak / 1024.0:F0} MiB"), "", null,
                "≤ 256 MiB", peak <= 256 * 1024, Format.Invariant($"largest transaction {rows:N0} rows")));
            await SegmentLandingAsync(options, production, ours, rows, table);
        }

        // Many concurrent small transactions after the bulk measures (a failure here leaves the measures above intact).
        var small = new Workload(Format.Invariant($"{options.SmallTransactions:N0} pgbench-style transactions, {options.Clients} clients, scale {scale}"), "≥ 10x", 10,
            () => SmallTransactions.RunAsync(production.Server.ConnectionString(ProductionCluster.Database), options.SmallTransactions, options.Clients, scale),
            $"SELECT count(*) = {options.SmallTransactions} FROM pgbench_history", SmallTransactions.Tables);
        if (options.CatchUps is null) await measure.RunAsync(small);

        // Last: apply speed, each workload again as a backlog both consumers are released onto, with the catch-up targets
        // of issue #16 where they differ from the live ones. The update and delete
        // backlogs need the inserted rows: with --catch-ups leaving the insert row out, they are inserted as the live
        // measure does.
        var catchUp = new CatchUp(production, ours, native, table);
        if (options.RunsCatchUp("insert")) await catchUp.RunAsync(insert);
        else if (options.RunsCatchUp("update") || options.RunsCatchUp("delete")) await measure.RunAsync(insert);
        if (options.RunsCatchUp("update"))
        {
            var updated = await catchUp.RunAsync(update with { Target = "≥ 1.3x", TargetRatio = 1.3 });
            await UpdateCeilingAsync(production, ours, native, rows, updated, table);
        }

        // The rows the segment measure inserted (ids above rows) stay: the same rows are deleted as above.
        if (options.RunsCatchUp("delete"))
            await catchUp.RunAsync(delete with { Run = () => production.ExecuteAsync($"DELETE FROM bulk_rows WHERE id <= {rows}"), Target = "≥ 2x", TargetRatio = 2 });
        // pgbench_history's count says nothing about the other three tables, each applied in its own transactions: a last
        // transaction touching all four ends the backlog.
        if (options.RunsCatchUp("small"))
        {
            await catchUp.RunAsync(small with
            {
                Target = "≥ 3x",
                TargetRatio = 3,
                Run = async () =>
                {
                    await small.Run();
                    await production.ExecuteAsync(SmallTransactions.LastTransaction);
                },
                Visible = SmallTransactions.LastTransactionVisible,
            });
        }

        if (options.RunsCatchUp("scale")) await CatchUpScaleAsync(options, production, catchUp, table);
    }

    /// <summary>
    /// The update catch-up's ceiling: the local server DataSync applies to, applying the same updated rows with its own
    /// set-based update (<see cref="UpdateCeiling"/>), against native's and DataSync's times for the same backlog.
    /// </summary>
    private static async Task UpdateCeilingAsync(ProductionCluster production, SyncedLocal ours, NativeSubscriber native, int rows, CatchUpResult updated, ResultTable table)
    {
        Console.WriteLine("update ceiling: the local server's own UPDATE … FROM stage of the same rows");
        var result = await UpdateCeiling.MeasureAsync(production.Server.ConnectionString(ProductionCluster.Database), ours.Local.ConnectionString, rows);
        var ceiling = result.Best;
        var same = await AllIdenticalAsync(production, ours, native, ["bulk_rows"]);
        var ceilingOverNative = updated.Native.TotalSeconds / Math.Max(ceiling.TotalSeconds, 0.001);
        var fraction = ceiling.TotalSeconds / Math.Max(updated.Ours.TotalSeconds, 0.001);
        Console.WriteLine(Format.Invariant($"  ceiling {ceiling.TotalSeconds:F2} s (server's plan {result.ServerPlan.Took.TotalSeconds:F2} s, index plan {result.IndexPlan.Took.TotalSeconds:F2} s); native {updated.Native.TotalSeconds:F2} s; datasync {updated.Ours.TotalSeconds:F2} s"));
        table.Add(new ResultRow(Name, Format.Invariant($"ceiling: the local server's own UPDATE … FROM stage of the same {rows:N0} updated rows, 10k-row rounds"),
            same ? Stats.Seconds(ceiling) : "FAILED (tables differ)", "native logical replication " + Stats.Seconds(updated.Native), ceilingOverNative, "", same ? null : false,
            Format.Invariant($"ratio = ceiling against native; DataSync's catch-up of the same backlog {Stats.Seconds(updated.Ours)} (from launch) = {fraction * 100:F0} % of the ceiling's speed; the faster of the server's own plan for an unanalysed stage {Stats.Seconds(result.ServerPlan.Took)} ({PlanShape(result.ServerPlan.Plan)}) and the index plan {Stats.Seconds(result.IndexPlan.Took)} ({PlanShape(result.IndexPlan.Plan)}); each round one transaction: binary COPY into a temporary stage, UPDATE … FROM it by key; one session on the same local server after VACUUM and CHECKPOINT; {(same ? "all three identical" : "TABLES DIFFER")}")));
        if (!same) throw new InvalidOperationException("update ceiling: the tables differ afterwards");
    }

    /// <summary>The join of an UPDATE … FROM plan (EXPLAIN COSTS OFF, lines joined by " / "), in a few words.</summary>
    private static string PlanShape(string plan) =>
        plan.Contains("Hash Join", StringComparison.Ordinal) ? "hash join" :
        plan.Contains("Merge Join", StringComparison.Ordinal) ? "merge join" :
        plan.Contains("Nested Loop", StringComparison.Ordinal) ? "nested loop" : "plan: " + plan;

    /// <summary>
    /// Catch-up scale: the same mixed backlog (<see cref="MixedBacklog"/>) at 1, 4 and 16 times <see cref="SuiteOptions.ScaleRows"/>
    /// changed rows, each caught up like the rows above; then whether DataSync's time grew linearly and its rows/s stayed ≥ 2 × native's.
    /// </summary>
    private static async Task CatchUpScaleAsync(SuiteOptions options, ProductionCluster production, CatchUp catchUp, ResultTable table)
    {
        var productionConnection = production.Server.ConnectionString(ProductionCluster.Database);
        var results = new List<(int Times, CatchUpResult Result)>();
        int[] sizes = [1, 4, 16];
        for (var run = 0; run < sizes.Length; run++)
        {
            var times = sizes[run];
            var changes = (int)Math.Min(int.MaxValue, (long)options.ScaleRows * times);
            var backlogRun = run;
            // The exact count is known once the backlog ran; the row needs it before, so it is computed the same way.
            var workload = new Workload(Format.Invariant($"mixed changes, {times} × ({changes:N0} changed rows)"), "≥ 2x", 2,
                () => MixedBacklog.RunAsync(productionConnection, backlogRun, changes, options.Clients), MixedBacklog.Visible(run), [MixedBacklog.Table],
                MixedBacklog.Changes(changes));
            results.Add((times, await catchUp.RunAsync(workload)));
        }

        var (_, one) = results[0];
        var (largest, big) = results[^1];
        var growth = big.Ours.TotalSeconds / Math.Max(one.Ours.TotalSeconds, 0.001);
        var nativeGrowth = big.Native.TotalSeconds / Math.Max(one.Native.TotalSeconds, 0.001);
        var worst = results.Min(r => r.Result.Ratio);
        var same = results.All(r => r.Result.Same);
        table.Add(new ResultRow(Name, Format.Invariant($"catch-up scale: {largest} × backlog time / 1 × backlog time"), Format.Invariant($"{growth:F1} ×"),
            Format.Invariant($"native logical replication {nativeGrowth:F1} ×"), nativeGrowth / Math.Max(growth, 0.001),
            Format.Invariant($"≤ {largest + 1} × (linear)"), same ? growth <= largest + 1 : false,
            Format.Invariant($"{string.Join(", ", results.Select(r => Format.Invariant($"{r.Times} ×: {r.Result.Ours.TotalSeconds:F1} s against native {r.Result.Native.TotalSeconds:F1} s")))}; DataSync times from launch{(same ? "" : "; TABLES DIFFER")}")));
        table.Add(new ResultRow(Name, "catch-up scale: rows/s against native's at every size (the lowest ratio)", Format.Invariant($"lowest {worst:F2} ×"), "", worst,
            "≥ 2x at every size", same ? worst >= 2 : false,
            string.Join(", ", results.Select(r => Format.Invariant($"{r.Times} ×: {r.Result.Ratio:F2} ×")))));
    }

    /// <summary>
    /// Fills one fresh segment with committed inserts, then times from the moment the archiver's copy of
    /// it appears in the archive until its last committed row is visible locally.
    /// </summary>
    private static async Task SegmentLandingAsync(SuiteOptions options, ProductionCluster production, SyncedLocal ours, int firstId, ResultTable table)
    {
        var times = new List<TimeSpan>();
        var nextId = firstId + 1;
        await using var connection = await production.Server.OpenAsync(ProductionCluster.Database);
        for (var round = 0; round < options.SegmentRepeats; round++)
        {
            await production.SwitchSegmentAndWaitArchivedAsync();
            var segment = await Scalar<string>(connection, "SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
            var segmentEnd = await Scalar<decimal>(connection, "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn) - (pg_current_wal_insert_lsn() - '0/0'::pg_lsn) % 16777216 + 16777216");
            var startedUtc = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            var path = Path.Combine(production.ArchiveDirectory, segment);
            var landed = Task.Run(async () =>
            {
                while (!File.Exists(path)) await Task.Delay(5);
                return clock.Elapsed;
            });
            var sentinel = 0;
            while (true)
            {
                await Execute(connection, $"INSERT INTO bulk_rows SELECT g, g % 100, 'segment row ' || g, g, 2 FROM generate_series({nextId}, {nextId + 4_999}) g");
                nextId += 5_000;
                var position = await Scalar<decimal>(connection, "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn");
                if (position >= segmentEnd) break;
                sentinel = nextId - 1; // this transaction's commit record lies in the segment
            }

            var landedAt = await landed.WaitAsync(TimeSpan.FromMinutes(2));
            var appliedAt = await Visibility.WaitAsync(ours.Local.ConnectionString, $"SELECT EXISTS (SELECT 1 FROM bulk_rows WHERE id = {sentinel})", clock, Timeout, "datasync segment", ours.Diagnostics, Visibility.DataSyncFailures);
            times.Add(appliedAt - landedAt);
            Console.WriteLine($"segment {segment}: landed at {landedAt.TotalSeconds:F2} s, applied {times[^1].TotalSeconds:F2} s later");
            foreach (var line in ours.LogSince(startedUtc)) Console.WriteLine("  daemon: " + line);
        }

        await production.SwitchSegmentAndWaitArchivedAsync();
        var median = Stats.Median(times);
        var worst = times.Max();
        table.Add(new ResultRow(Name, "16 MB segment of inserts: landed in the archive → last row visible locally", Format.Invariant($"median {median.TotalSeconds:F2} s, worst {worst.TotalSeconds:F2} s"),
            "", null, "≤ 2 s", worst <= TimeSpan.FromSeconds(2), Format.Invariant($"{times.Count} segments, 5k-row transactions, DATA_SYNC_FREQ = 1 s (the minimum)")));
    }

    private static async Task<T> Scalar<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>One apply workload on production: what it runs, a query true once its last change is visible, the tables it writes, and the issue's target.</summary>
    /// <param name="Changes">Rows the workload changes, when the row should show rows/s.</param>
    private sealed record Workload(string Name, string Target, double? TargetRatio, Func<Task> Run, string Visible, IReadOnlyList<string> Tables, long Changes = 0);

    /// <summary>A catch-up's times (DataSync from launch, native from ENABLE), native / DataSync, and whether the tables ended identical.</summary>
    private sealed record CatchUpResult(TimeSpan Ours, TimeSpan Native, double Ratio, bool Same);

    /// <summary>Count and hash of every row of the workload's tables, equal on production and both consumers.</summary>
    private static async Task<bool> AllIdenticalAsync(ProductionCluster production, SyncedLocal ours, NativeSubscriber native, IReadOnlyList<string> tables)
    {
        var same = true;
        foreach (var checkTable in tables)
        {
            var upstream = await Visibility.FingerprintAsync(production.Server.ConnectionString(ProductionCluster.Database), checkTable);
            same &= upstream == await Visibility.FingerprintAsync(ours.Local.ConnectionString, checkTable)
                    && upstream == await Visibility.FingerprintAsync(native.Cluster.ConnectionString, checkTable);
        }

        return same;
    }

    /// <summary>
    /// Latency: one workload, timed on both consumers at once from its start, reported from its last commit
    /// (native applies while production still writes; DataSync starts once the commit is archived).
    /// </summary>
    private sealed class Measure(ProductionCluster production, SyncedLocal ours, NativeSubscriber native, ResultTable table)
    {
        public async Task RunAsync(Workload workload)
        {
            Console.WriteLine($"workload: {workload.Name}");
            var startedUtc = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            var oursVisible = Visibility.WaitAsync(ours.Local.ConnectionString, workload.Visible, clock, Timeout, "datasync", ours.Diagnostics, Visibility.DataSyncFailures);
            var nativeVisible = Visibility.WaitAsync(native.Cluster.ConnectionString, workload.Visible, clock, Timeout, "native", () => native.Cluster.Server.TailOfLog());
            await workload.Run();
            var committed = clock.Elapsed;
            await production.SwitchSegmentAndWaitArchivedAsync(TimeSpan.FromMinutes(5));
            var switched = clock.Elapsed - committed;
            var nativeAt = await nativeVisible;
            var nativeLag = Max0(nativeAt - committed);
            TimeSpan oursAt;
            try
            {
                oursAt = await oursVisible;
            }
            catch (Visibility.SyncFailedException e)
            {
                foreach (var line in ours.LogSince(startedUtc)) Console.WriteLine("  daemon: " + line);
                table.Add(new ResultRow(Name, workload.Name + ": last commit → visible locally", "FAILED", "native logical replication " + Stats.Seconds(nativeLag), null,
                    workload.Target, workload.TargetRatio is null ? null : false, "DataSync paused the tables: " + e.Message));
                throw;
            }

            var oursLag = Max0(oursAt - committed);

            var same = await AllIdenticalAsync(production, ours, native, workload.Tables);
            Console.WriteLine($"  committed after {committed.TotalSeconds:F2} s; switch + archive {switched.TotalSeconds:F2} s; datasync visible +{oursLag.TotalSeconds:F2} s; native +{nativeLag.TotalSeconds:F2} s");
            foreach (var line in ours.LogSince(startedUtc)) Console.WriteLine("  daemon: " + line);
            var ratio = nativeLag.TotalSeconds / Math.Max(oursLag.TotalSeconds, 0.001);
            table.Add(new ResultRow(Name, workload.Name + ": last commit → visible locally", Stats.Seconds(oursLag), "native logical replication " + Stats.Seconds(nativeLag), ratio,
                workload.Target, workload.TargetRatio is { } t ? ratio >= t : null,
                Format.Invariant($"workload {committed.TotalSeconds:F1} s, switch + archive {switched.TotalSeconds:F2} s; {(same ? "all three identical" : "TABLES DIFFER")}")));
            var total = nativeAt.TotalSeconds / Math.Max(oursAt.TotalSeconds, 0.001);
            table.Add(new ResultRow(Name, workload.Name + ": workload start → visible locally", Stats.Seconds(oursAt), "native logical replication " + Stats.Seconds(nativeAt), total));
        }

        private static TimeSpan Max0(TimeSpan time) => time < TimeSpan.Zero ? TimeSpan.Zero : time;
    }

    /// <summary>
    /// Apply speed: the workload runs on production while both consumers are held back (the daemon stopped,
    /// the subscription disabled; the archive and the slot keep the WAL), then each is released alone onto the
    /// backlog and timed until the workload's last change is visible, DataSync first, the other idle meanwhile.
    /// Released at once they would share the 2 cores and the disk, and whichever finished first would hand the
    /// machine to the other; one after the other, each has the same machine to itself.
    /// </summary>
    private sealed class CatchUp(ProductionCluster production, SyncedLocal ours, NativeSubscriber native, ResultTable table)
    {
        public async Task<CatchUpResult> RunAsync(Workload workload)
        {
            Console.WriteLine($"catch-up: {workload.Name}");
            await ours.StopDaemonAsync();
            await native.DisableAsync();
            var from = await production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text");
            var workloadClock = Stopwatch.StartNew();
            await workload.Run();
            var ran = workloadClock.Elapsed;
            await production.SwitchSegmentAndWaitArchivedAsync(TimeSpan.FromMinutes(5));
            var backlog = await production.QueryScalarAsync<decimal>($"SELECT pg_current_wal_insert_lsn() - '{from}'::pg_lsn");
            // What earlier workloads left dirty is written now, not while a consumer is timed.
            await production.ExecuteAsync("CHECKPOINT");
            await ours.Local.ExecuteAsync("CHECKPOINT");
            await native.Cluster.ExecuteAsync("CHECKPOINT");

            // DataSync from launching the daemon: its start-up is part of what a user waits.
            var startedUtc = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            ours.StartDaemon();
            TimeSpan oursAt;
            try
            {
                oursAt = await Visibility.WaitAsync(ours.Local.ConnectionString, workload.Visible, clock, Timeout, "datasync catch-up", ours.Diagnostics, Visibility.DataSyncFailures);
            }
            catch (Visibility.SyncFailedException e)
            {
                foreach (var line in ours.LogSince(startedUtc)) Console.WriteLine("  daemon: " + line);
                table.Add(new ResultRow(Name, CatchUpMeasure(workload), "FAILED", "native logical replication not measured", null,
                    workload.Target, workload.TargetRatio is null ? null : false, "DataSync paused the tables: " + e.Message));
                throw;
            }

            var running = LogOffset(ours.FirstLogAt(startedUtc, "datasync daemon running"), startedUtc);
            var fetched = LogOffset(ours.FirstLogAt(startedUtc, "fetched into the spool"), startedUtc);

            // Then native, from ENABLE (the launcher starts the apply worker, which resumes from the slot); production is quiet, so the daemon idles.
            var nativeClock = Stopwatch.StartNew();
            var walsender = Visibility.WaitAsync(production.Server.ConnectionString(ProductionCluster.Database), NativeSubscriber.SlotActive, nativeClock, Timeout, "native walsender");
            await native.EnableAsync();
            var nativeAt = await Visibility.WaitAsync(native.Cluster.ConnectionString, workload.Visible, nativeClock, Timeout, "native catch-up", () => native.Cluster.Server.TailOfLog());
            var nativeStarted = await walsender;

            // Printed now, so the lines the daemon wrote after committing (it was idle since) are in.
            foreach (var line in ours.LogSince(startedUtc)) Console.WriteLine("  daemon: " + line);
            var same = await AllIdenticalAsync(production, ours, native, workload.Tables);
            var megabytes = backlog / (1024 * 1024);
            Console.WriteLine(Format.Invariant($"  backlog {megabytes:F0} MB of WAL (workload {ran.TotalSeconds:F1} s); datasync identical after {oursAt.TotalSeconds:F2} s (running at {running}, first fetch at {fetched}); native after {nativeAt.TotalSeconds:F2} s (walsender at {nativeStarted.TotalSeconds:F2} s)"));
            var ratio = nativeAt.TotalSeconds / Math.Max(oursAt.TotalSeconds, 0.001);
            // A row whose tables ended different fails, whatever its time.
            table.Add(new ResultRow(Name, CatchUpMeasure(workload), (same ? "" : "FAILED (tables differ) ") + Stats.Seconds(oursAt) + RowsPerSecond(workload, oursAt),
                "native logical replication " + Stats.Seconds(nativeAt) + RowsPerSecond(workload, nativeAt), ratio,
                workload.Target, !same ? false : workload.TargetRatio is { } t ? ratio >= t : null,
                Format.Invariant($"backlog {megabytes:F0} MB of WAL; released one after the other, each alone; DataSync from launch, of which start-up to first fetch {fetched} (its log); native from ENABLE, walsender active after {nativeStarted.TotalSeconds:F2} s; {(same ? "all three identical" : "TABLES DIFFER")}")));
            return new CatchUpResult(oursAt, nativeAt, ratio, same);
        }

        private static string RowsPerSecond(Workload workload, TimeSpan time) =>
            workload.Changes > 0 ? Format.Invariant($", {workload.Changes / Math.Max(time.TotalSeconds, 0.001):N0} rows/s") : "";

        private static string CatchUpMeasure(Workload workload) => $"catch-up: backlog of {workload.Name} → identical locally";

        private static string LogOffset(DateTime? loggedUtc, DateTime startedUtc) =>
            loggedUtc is { } at ? Stats.Seconds(at - startedUtc) : "not in the log";
    }
}
