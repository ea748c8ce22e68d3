using System.Diagnostics;
using DataSync.Embedded;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// Section 5: steady pgbench-style writes for a long time at half the rate DataSync catches up at, with
/// production's archive_timeout landing a segment every few seconds. Watches the daemon's memory (flat),
/// the lag from a heartbeat's commit to it being visible locally (bounded by the segment interval), errors
/// (none) and, at the end, the tables (identical). No baseline: native logical replication has no archive
/// cadence to compare with.
/// </summary>
internal static class SoakSection
{
    private const string Name = "5 soak";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);

    /// <summary>The highest heartbeat visible: heartbeat n is the history row with key -(n + 1) (-1 is the probe's marker).</summary>
    private const string HighestHeartbeat = "SELECT coalesce(-min(hid) - 1, 0) FROM pgbench_history WHERE hid < -1";

    private const string DaemonErrorLevels = "[ERR]";
    private const string DaemonFatalLevel = "[FTL]";

    public static async Task RunAsync(SuiteOptions options, DatasyncCli cli, ResultTable table)
    {
        var scale = Math.Max(1, options.Clients);
        var interval = TimeSpan.FromSeconds(options.SoakSegmentSeconds);
        await using var production = await ProductionCluster.StartAsync("bench-soak", "off", new Dictionary<string, string>
        {
            ["archive_timeout"] = Format.Invariant($"'{options.SoakSegmentSeconds}s'"),
        });
        var productionConnection = production.Server.ConnectionString(ProductionCluster.Database);
        await production.ExecuteAsync(SmallTransactions.Ddl + SmallTransactions.Load(scale));
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();

        await using var ours = await SyncedLocal.CreateAsync("bench-soak", production, cli, SmallTransactions.Ddl, SmallTransactions.Tables, options.ProfileDirectory);
        var clock = Stopwatch.StartNew();
        ours.StartDaemon();
        await Visibility.WaitAsync(ours.Local.ConnectionString, $"SELECT count(*) = {100_000 * scale} FROM pgbench_accounts", clock, Timeout, "datasync bootstrap", ours.Diagnostics, Visibility.DataSyncFailures);
        Console.WriteLine($"datasync bootstrapped the soak tables in {clock.Elapsed.TotalSeconds:F1} s");

        var rate = options.SoakTransactionsPerSecond is { } given
            ? given
            : await ProbeRateAsync(options, production, ours, scale, table) / 2;

        var soak = await SoakAsync(options, production, ours, scale, rate, interval);
        var minutes = options.SoakMinutes;
        var written = Format.Invariant($"{minutes} min of pgbench-style writes, {options.Clients} clients, asked {rate:F0} tx/s, wrote {soak.Committed / (minutes * 60.0):F0} tx/s ({soak.Committed:N0} transactions)");
        Console.WriteLine("soak: " + written);

        // Memory: the mean of the samples in the first window after the warm-up against the last window.
        var warmup = TimeSpan.FromMinutes(options.SoakWarmupMinutes);
        var window = TimeSpan.FromMinutes(options.SoakWindowMinutes);
        var end = TimeSpan.FromMinutes(minutes);
        var first = soak.Rss.Where(s => s.At >= warmup && s.At < warmup + window).Select(s => s.Kb).ToList();
        var last = soak.Rss.Where(s => s.At >= end - window && s.At < end).Select(s => s.Kb).ToList();
        var firstMean = first.Count > 0 ? first.Average() : double.NaN;
        var lastMean = last.Count > 0 ? last.Average() : double.NaN;
        var growth = lastMean / firstMean - 1;
        table.Add(new ResultRow(Name, Format.Invariant($"daemon RSS, minutes {warmup.TotalMinutes:F0}–{(warmup + window).TotalMinutes:F0} against the last {window.TotalMinutes:F0} ({written})"),
            Format.Invariant($"{firstMean / 1024:F0} → {lastMean / 1024:F0} MiB ({growth * 100:+0.0;-0.0} %)"), "", null, "last window ≤ 1.10 × the first", growth <= 0.10,
            Format.Invariant($"VmRSS every {RssSampleInterval.TotalSeconds:F0} s, {first.Count} + {last.Count} samples; whole run min {soak.Rss.Min(s => s.Kb) / 1024.0:F0}, max {soak.Rss.Max(s => s.Kb) / 1024.0:F0} MiB, peak (VmHWM) {soak.PeakKb / 1024.0:F0} MiB")));

        // Lag: every heartbeat committed after the warm-up.
        var lags = soak.Heartbeats.Where(h => h.CommittedAt >= warmup).Select(h => h.VisibleAt - h.CommittedAt).Order().ToList();
        var p50 = Percentile(lags, 0.50);
        var p99 = Percentile(lags, 0.99);
        var segmentsPerMinute = soak.Segments / (minutes * 1.0);
        table.Add(new ResultRow(Name, "heartbeat commit → visible locally (one a second, after the warm-up)",
            Format.Invariant($"p50 {p50.TotalSeconds:F1} s, p99 {p99.TotalSeconds:F1} s, max {(lags.Count > 0 ? lags[^1] : TimeSpan.Zero).TotalSeconds:F1} s"), "", null,
            Format.Invariant($"p99 ≤ 2 segment intervals ({2 * interval.TotalSeconds:F0} s)"), lags.Count > 0 && p99 <= 2 * interval,
            Format.Invariant($"{lags.Count} heartbeats; archive_timeout {interval.TotalSeconds:F0} s, {soak.Segments} segments archived during the run ({60 / segmentsPerMinute:F1} s apart on average); DATA_SYNC_FREQ = 1 s")));

        var failedRows = await ours.Local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'");
        var logErrors = ours.LogSince(soak.StartedUtc).Where(l => l.Contains(DaemonErrorLevels, StringComparison.Ordinal) || l.Contains(DaemonFatalLevel, StringComparison.Ordinal)).ToList();
        foreach (var line in logErrors.Take(10)) Console.WriteLine("  daemon error: " + line);
        table.Add(new ResultRow(Name, "errors over the soak", Format.Invariant($"{failedRows} FAILED rows, {logErrors.Count} [ERR]/[FTL] log lines"), "", null,
            "none", failedRows == 0 && logErrors.Count == 0 && soak.DaemonAlive,
            (soak.DaemonAlive ? "daemon ran throughout" : "THE DAEMON EXITED") + (logErrors.Count > 0 ? "; first: " + logErrors[0] : "")));

        var differing = new List<string>();
        foreach (var synced in SmallTransactions.Tables)
        {
            var upstream = await OrderedMd5Async(productionConnection, synced);
            var local = await OrderedMd5Async(ours.Local.ConnectionString, synced);
            Console.WriteLine($"  {synced}: production {upstream}, local {local}");
            if (upstream != local) differing.Add(synced);
        }

        table.Add(new ResultRow(Name, "tables at the end (md5 of every row in key order)", differing.Count == 0 ? "identical" : "DIFFER: " + string.Join(", ", differing), "", null,
            "identical", differing.Count == 0, Format.Invariant($"last change visible {soak.Drained.TotalSeconds:F1} s after the writes stopped")));
        if (differing.Count > 0) throw new InvalidOperationException($"soak: tables differ at the end: {string.Join(", ", differing)}");
    }

    private static readonly TimeSpan RssSampleInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The rate DataSync sustains: a backlog of pgbench-style transactions written with the daemon stopped,
    /// then timed from launching the daemon until its last transaction is visible in all four tables.
    /// </summary>
    private static async Task<double> ProbeRateAsync(SuiteOptions options, ProductionCluster production, SyncedLocal ours, int scale, ResultTable table)
    {
        var transactions = options.SoakProbeTransactions;
        await ours.StopDaemonAsync();
        var writeClock = Stopwatch.StartNew();
        await SmallTransactions.RunAsync(production.Server.ConnectionString(ProductionCluster.Database), transactions, options.Clients, scale);
        var wrote = writeClock.Elapsed;
        await production.ExecuteAsync(SmallTransactions.LastTransaction);
        await production.SwitchSegmentAndWaitArchivedAsync(TimeSpan.FromMinutes(5));
        await production.ExecuteAsync("CHECKPOINT");
        await ours.Local.ExecuteAsync("CHECKPOINT");
        var startedUtc = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        ours.StartDaemon();
        var caughtUp = await Visibility.WaitAsync(ours.Local.ConnectionString, SmallTransactions.LastTransactionVisible, clock, Timeout, "datasync rate probe", ours.Diagnostics, Visibility.DataSyncFailures);
        // The rate counts from the daemon's first fetch: a running daemon pays no start-up (which a loaded machine can stretch to seconds).
        var fetchedAt = ours.FirstLogAt(startedUtc, "fetched into the spool") is { } fetched ? fetched - startedUtc : TimeSpan.Zero;
        var working = caughtUp - (fetchedAt < caughtUp ? fetchedAt : TimeSpan.Zero);
        var oursRate = transactions / working.TotalSeconds;
        var productionRate = transactions / wrote.TotalSeconds;
        Console.WriteLine(Format.Invariant($"soak probe: datasync caught up {transactions:N0} transactions {caughtUp.TotalSeconds:F2} s after launch, {working.TotalSeconds:F2} s after its first fetch ({oursRate:F0} tx/s); production wrote them at {productionRate:F0} tx/s"));
        table.Add(new ResultRow(Name, Format.Invariant($"rate probe: catch-up of {transactions:N0} pgbench-style transactions (from the first fetch)"), Format.Invariant($"{oursRate:F0} tx/s"),
            Format.Invariant($"production wrote them at {productionRate:F0} tx/s ({options.Clients} clients, full speed)"), null, "", null,
            Format.Invariant($"launch to first fetch {fetchedAt.TotalSeconds:F2} s, left out; the soak asks half: {oursRate / 2:F0} tx/s")));
        return oursRate;
    }

    private sealed record RssSample(TimeSpan At, long Kb);

    private sealed record Heartbeat(long Number, TimeSpan CommittedAt, TimeSpan VisibleAt);

    private sealed record SoakResult(DateTime StartedUtc, long Committed, IReadOnlyList<RssSample> Rss, long PeakKb, IReadOnlyList<Heartbeat> Heartbeats, int Segments, bool DaemonAlive, TimeSpan Drained);

    private static async Task<SoakResult> SoakAsync(SuiteOptions options, ProductionCluster production, SyncedLocal ours, int scale, double rate, TimeSpan interval)
    {
        var productionConnection = production.Server.ConnectionString(ProductionCluster.Database);
        var daemon = ours.Daemon ?? throw new InvalidOperationException("the daemon is not running");
        var segmentsBefore = production.ArchivedSegments().Count;
        var startedUtc = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var duration = TimeSpan.FromMinutes(options.SoakMinutes);
        using var stop = new CancellationTokenSource(duration);
        using var watching = new CancellationTokenSource();
        Console.WriteLine(Format.Invariant($"soak: {options.SoakMinutes} min at {rate:F0} tx/s, archive_timeout {interval.TotalSeconds:F0} s (started {startedUtc:HH:mm:ss} UTC)"));

        var committedAt = new List<TimeSpan>(); // heartbeat n committed at committedAt[n - 1]
        var heartbeats = new List<Heartbeat>();
        var rss = new List<RssSample>();
        var writes = SmallTransactions.RunPacedAsync(productionConnection, rate, options.Clients, scale, stop.Token);
        var beats = BeatAsync(productionConnection, committedAt, clock, stop.Token);
        var watch = WatchAsync(ours, daemon, committedAt, heartbeats, rss, clock, watching.Token);

        long committed;
        try
        {
            // The watcher ends early only by failing (the daemon gone): that ends the soak at once.
            if (await Task.WhenAny(Task.WhenAll(writes, beats), watch) == watch) await watch;
            committed = await writes;
            var sent = await beats;
            var writesStopped = clock.Elapsed;
            // The end: one transaction in all four tables; once it is visible, every table has applied the whole soak.
            await production.ExecuteAsync(EndTransaction(sent + 1));
            lock (committedAt) committedAt.Add(clock.Elapsed);
            await Visibility.WaitAsync(ours.Local.ConnectionString, EndVisible(sent + 1), clock, Timeout, "datasync soak end", ours.Diagnostics, Visibility.DataSyncFailures);
            var drained = clock.Elapsed - writesStopped;
            await Task.Delay(300); // a last poll or two, so the watcher records the final heartbeats' visibility
            await watching.CancelAsync();
            await watch;
            var segments = production.ArchivedSegments().Count - segmentsBefore;
            foreach (var line in ours.LogSince(DateTime.UtcNow.AddMinutes(-1))) Console.WriteLine("  daemon (last minute): " + line);
            var alive = !daemon.HasExited;
            return new SoakResult(startedUtc, committed, rss, alive ? daemon.PeakRssKb() : 0, heartbeats, segments, alive, drained);
        }
        finally
        {
            await stop.CancelAsync();
            await watching.CancelAsync();
        }
    }

    /// <summary>One heartbeat a second: a history row keyed -(n + 1), its commit time on the suite's clock.</summary>
    private static async Task<long> BeatAsync(string connectionString, List<TimeSpan> committedAt, Stopwatch clock, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("INSERT INTO pgbench_history (hid, tid, bid, aid, delta, mtime, filler) VALUES ($1, 1, 1, 1, 0, CURRENT_TIMESTAMP, 'heartbeat')", connection);
        var key = new NpgsqlParameter<long>();
        command.Parameters.Add(key);
        long sent = 0;
        var next = clock.Elapsed;
        while (!stop.IsCancellationRequested)
        {
            key.TypedValue = -(sent + 2);
            await command.ExecuteNonQueryAsync(CancellationToken.None);
            sent++;
            lock (committedAt) committedAt.Add(clock.Elapsed);
            next += TimeSpan.FromSeconds(1);
            var wait = next - clock.Elapsed;
            if (wait <= TimeSpan.Zero) continue;
            try
            {
                await Task.Delay(wait, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return sent;
    }

    /// <summary>
    /// Every 100 ms: which heartbeats became visible locally; every few seconds the daemon's RSS, whether it
    /// still runs (a daemon gone ends the soak) and DataSync's FAILED rows (printed; the errors row counts them).
    /// </summary>
    private static async Task WatchAsync(SyncedLocal ours, DaemonProcess daemon, List<TimeSpan> committedAt, List<Heartbeat> heartbeats, List<RssSample> rss, Stopwatch clock, CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(ours.Local.ConnectionString);
        await connection.OpenAsync(CancellationToken.None);
        await using var highest = new NpgsqlCommand(HighestHeartbeat, connection);
        await using var failed = new NpgsqlCommand(Visibility.DataSyncFailures, connection);
        long seen = 0;
        string? lastFailure = null;
        var nextSample = TimeSpan.Zero;
        for (var poll = 0; !stop.IsCancellationRequested; poll++)
        {
            var visible = (long)(await highest.ExecuteScalarAsync(CancellationToken.None))!;
            var now = clock.Elapsed;
            lock (committedAt)
            {
                for (; seen < visible && seen < committedAt.Count; seen++) heartbeats.Add(new Heartbeat(seen + 1, committedAt[(int)seen], now));
            }

            if (now >= nextSample)
            {
                daemon.EnsureRunning();
                rss.Add(new RssSample(now, daemon.RssKb()));
                nextSample = now + RssSampleInterval;
                // A FAILED row is counted in the errors row, not an end: the daemon retries, and the soak goes on measuring.
                if (await failed.ExecuteScalarAsync(CancellationToken.None) is string reason && reason != lastFailure)
                {
                    lastFailure = reason;
                    Console.WriteLine(Format.Invariant($"  soak {now.TotalMinutes:F1} min: FAILED in data_sync_logs: {reason}"));
                }
                if (rss.Count % 12 == 0)
                    Console.WriteLine(Format.Invariant($"  soak {now.TotalMinutes:F1} min: RSS {rss[^1].Kb / 1024.0:F0} MiB, heartbeats visible {seen}, last lag {(heartbeats.Count > 0 ? (heartbeats[^1].VisibleAt - heartbeats[^1].CommittedAt).TotalSeconds : 0):F1} s"));
            }

            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static string EndTransaction(long heartbeat) => $"""
        BEGIN;
        UPDATE pgbench_branches SET filler = 'soak end' WHERE bid = 1;
        UPDATE pgbench_tellers SET filler = 'soak end' WHERE tid = 1;
        UPDATE pgbench_accounts SET filler = 'soak end' WHERE aid = 1;
        INSERT INTO pgbench_history (hid, tid, bid, aid, delta, mtime, filler) VALUES ({-(heartbeat + 1)}, 1, 1, 1, 0, CURRENT_TIMESTAMP, 'soak end');
        COMMIT;
        """;

    private static string EndVisible(long heartbeat) => $"""
        SELECT EXISTS (SELECT 1 FROM pgbench_history WHERE hid = {-(heartbeat + 1)})
           AND EXISTS (SELECT 1 FROM pgbench_accounts WHERE aid = 1 AND filler = 'soak end')
           AND EXISTS (SELECT 1 FROM pgbench_tellers WHERE tid = 1 AND filler = 'soak end')
           AND EXISTS (SELECT 1 FROM pgbench_branches WHERE bid = 1 AND filler = 'soak end')
        """;

    private static TimeSpan Percentile(IReadOnlyList<TimeSpan> sorted, double fraction) =>
        sorted.Count == 0 ? TimeSpan.Zero : sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static readonly Dictionary<string, string> Keys = new()
    {
        ["pgbench_branches"] = "bid",
        ["pgbench_tellers"] = "tid",
        ["pgbench_accounts"] = "aid",
        ["pgbench_history"] = "hid",
    };

    /// <summary>md5 over the md5 of every row's text in key order.</summary>
    private static async Task<string> OrderedMd5Async(string connectionString, string table)
    {
        var key = Keys[table];
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*)::text || ' rows, md5 ' || coalesce(md5(string_agg(md5(t::text), '' ORDER BY t.\"{key}\")), '-') FROM \"{table}\" t", connection) { CommandTimeout = 0 };
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
