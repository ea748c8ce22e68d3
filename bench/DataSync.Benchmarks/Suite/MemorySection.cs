using System.Diagnostics;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// Section 4: the daemon's resident memory as the kernel counts it (VmHWM, the peak, from
/// /proc/PID/status) while idle and while it syncs one very large transaction.
/// </summary>
internal static class MemorySection
{
    private const string Name = "4 memory";
    private const string Ddl = "CREATE TABLE big_rows (id bigint PRIMARY KEY, payload text NOT NULL);";

    public static async Task RunAsync(SuiteOptions options, DatasyncCli cli, ResultTable table)
    {
        await using var production = await ProductionCluster.StartAsync("bench-memory", "off", new Dictionary<string, string>
        {
            ["max_wal_size"] = "'8GB'",
            ["checkpoint_timeout"] = "'1h'",
        });
        await production.ExecuteAsync(Ddl + "INSERT INTO big_rows VALUES (0, 'before the backup');");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();

        await using var synced = await SyncedLocal.CreateAsync("bench-memory", production, cli, Ddl, ["big_rows"], options.ProfileDirectory);
        var clock = Stopwatch.StartNew();
        var daemon = synced.StartDaemon();
        await Visibility.WaitAsync(synced.Local.ConnectionString, "SELECT EXISTS (SELECT 1 FROM big_rows WHERE id = 0)", clock, TimeSpan.FromMinutes(10), "datasync bootstrap", synced.Diagnostics, Visibility.DataSyncFailures);
        var bootstrapPeak = daemon.PeakRssKb();
        // Idle: a few sync cycles that find nothing new.
        ResetPeak(daemon.Pid);
        await Task.Delay(TimeSpan.FromSeconds(15));
        daemon.EnsureRunning();
        var idlePeak = daemon.PeakRssKb();
        var idleNow = daemon.RssKb();
        var (anonymous, fileBacked, shared) = daemon.RssPartsKb();
        table.Add(new ResultRow(Name, "daemon RSS while idle (15 s of empty sync cycles)", Format.Invariant($"peak {Mib(idlePeak)}, now {Mib(idleNow)}"), "", null,
            "≤ 256 MiB", idlePeak <= 256 * 1024,
            Format.Invariant($"peak during the bootstrap before it: {Mib(bootstrapPeak)}; now anonymous {Mib(anonymous)}, file-backed {Mib(fileBacked)}, JIT code (shared) {Mib(shared)}")));

        // One transaction of about BigTransactionMegabytes of WAL: 1000-character rows, stored inline (no TOAST).
        var rows = (long)options.BigTransactionMegabytes * 1024 * 1024 / 1130;
        ResetPeak(daemon.Pid);
        daemon.ResetSampledPeak();
        var startedUtc = DateTime.UtcNow;
        var before = await production.QueryScalarAsync<decimal>("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn");
        clock.Restart();
        var visible = Visibility.WaitAsync(synced.Local.ConnectionString, $"SELECT EXISTS (SELECT 1 FROM big_rows WHERE id = {rows})", clock, TimeSpan.FromMinutes(60), "datasync big transaction", synced.Diagnostics, Visibility.DataSyncFailures);
        await production.ExecuteAsync($"INSERT INTO big_rows SELECT g, repeat(md5(g::text), 31) || lpad(g::text, 8, '0') FROM generate_series(1, {rows}) g");
        var committed = clock.Elapsed;
        var after = await production.QueryScalarAsync<decimal>("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn");
        await production.SwitchSegmentAndWaitArchivedAsync(TimeSpan.FromMinutes(5));
        var appliedAt = await visible;
        var syncPeak = daemon.PeakRssKb();
        var copied = await synced.Local.QueryScalarAsync<long>("SELECT count(*) FROM big_rows");
        foreach (var line in synced.LogSince(startedUtc)) Console.WriteLine("  daemon: " + line);
        var walMb = (double)(after - before) / 1048576.0;
        table.Add(new ResultRow(Name, Format.Invariant($"daemon peak RSS while syncing one {walMb:F0} MiB transaction ({rows:N0} rows)"), Mib(syncPeak), "", null,
            "≤ 256 MiB", syncPeak <= 256 * 1024,
            Format.Invariant($"sampled every 100 ms: {Mib(daemon.SampledPeakKb)}; written in {committed.TotalSeconds:F0} s, visible locally {(appliedAt - committed).TotalSeconds:F0} s after commit; {(copied == rows + 1 ? "all rows there" : $"ROWS MISSING: {copied}")}")));
    }

    /// <summary>Writing 5 to clear_refs resets the kernel's peak RSS (VmHWM) to the current RSS.</summary>
    private static void ResetPeak(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    private static string Mib(long kb) => Format.Invariant($"{kb / 1024.0:F0} MiB");
}
