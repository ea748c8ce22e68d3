using System.Diagnostics;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// Section 5: a fresh daemon's start-up, launched again and again against an archive that holds one new segment
/// each time (a row inserted while the daemon was stopped): launch → running (control channel up), launch → first
/// segment fetched into the spool, launch → the row visible locally, each read from the daemon's log or the local
/// database; and its resident memory once idle after that. Medians over <see cref="SuiteOptions.Repeats"/> launches.
/// </summary>
internal static partial class StartupSection
{
    private const string Name = "5 start-up";
    private const string Ddl = "CREATE TABLE launches (id bigint PRIMARY KEY, note text NOT NULL);";

    public static async Task RunAsync(SuiteOptions options, DatasyncCli cli, ResultTable table)
    {
        await using var production = await ProductionCluster.StartAsync("bench-startup", "off");
        await production.ExecuteAsync(Ddl + "INSERT INTO launches VALUES (0, 'before the backup');");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();

        await using var synced = await SyncedLocal.CreateAsync("bench-startup", production, cli, Ddl, ["launches"], options.ProfileDirectory);
        // The first start bootstraps; it is not timed.
        var clock = Stopwatch.StartNew();
        synced.StartDaemon();
        await Visibility.WaitAsync(synced.Local.ConnectionString, "SELECT EXISTS (SELECT 1 FROM launches WHERE id = 0)", clock, TimeSpan.FromMinutes(10), "datasync bootstrap", synced.Diagnostics, Visibility.DataSyncFailures);

        var running = new List<double>();
        var fetched = new List<double>();
        var visible = new List<double>();
        var idleRss = new List<double>();
        var fetchedCpu = new List<double>();
        for (var launch = 1; launch <= options.Repeats; launch++)
        {
            await synced.StopDaemonAsync();
            await production.ExecuteAsync($"INSERT INTO launches VALUES ({launch}, 'while the daemon was stopped')");
            await production.SwitchSegmentAndWaitArchivedAsync();

            var startedUtc = DateTime.UtcNow;
            clock.Restart();
            var daemon = synced.StartDaemon();
            var at = await Visibility.WaitAsync(synced.Local.ConnectionString, $"SELECT EXISTS (SELECT 1 FROM launches WHERE id = {launch})", clock, TimeSpan.FromMinutes(2),
                "datasync after a launch", synced.Diagnostics, Visibility.DataSyncFailures);
            // Idle for a moment: what the process keeps resident once started (mapped code included).
            await Task.Delay(TimeSpan.FromSeconds(3));
            daemon.EnsureRunning();
            idleRss.Add(daemon.RssKb() / 1024.0);
            visible.Add(at.TotalSeconds);
            running.Add(Offset(synced.FirstLogAt(startedUtc, "datasync daemon running"), startedUtc));
            fetched.Add(Offset(synced.FirstLogAt(startedUtc, "fetched into the spool"), startedUtc));
            // The daemon's own CPU time by then, when its log gives it: on a shared machine it varies far less than wall time.
            fetchedCpu.Add(synced.LogSince(startedUtc).Where(l => l.Contains("fetched into the spool", StringComparison.Ordinal))
                .Select(l => CpuTime().Match(l)).Where(m => m.Success)
                .Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(double.NaN).First());
            foreach (var line in synced.LogSince(startedUtc)) Console.WriteLine("  daemon: " + line);
            Console.WriteLine(Format.Invariant($"  launch {launch}: running {running[^1]:F2} s, first fetch {fetched[^1]:F2} s (cpu {fetchedCpu[^1]:F2} s), visible {visible[^1]:F2} s, RSS {idleRss[^1]:F0} MiB"));
        }

        var launches = Format.Invariant($"{options.Repeats} launches, one new segment each; all: {string.Join(", ", fetched.Select(s => Format.Invariant($"{s:F2}")))}");
        table.Add(new ResultRow(Name, "launch → first segment fetched into the spool (daemon's log; median)", Seconds(fetched), "", null, "≤ 0.3 s", Median(fetched) <= 0.3, launches));
        table.Add(new ResultRow(Name, "daemon CPU time at its first fetch (daemon's log; median)", Seconds(fetchedCpu), "", null));
        table.Add(new ResultRow(Name, "launch → control channel up (\"datasync daemon running\"; median)", Seconds(running), "", null));
        table.Add(new ResultRow(Name, "launch → the new segment's row visible locally (median)", Seconds(visible), "", null));
        table.Add(new ResultRow(Name, "daemon RSS 3 s after that row was visible (median)", Format.Invariant($"{Median(idleRss):F0} MiB"), "", null));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\bcpu ([0-9.]+) s")]
    private static partial System.Text.RegularExpressions.Regex CpuTime();

    private static double Offset(DateTime? loggedUtc, DateTime startedUtc) => loggedUtc is { } at ? (at - startedUtc).TotalSeconds : double.NaN;

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Seconds(List<double> values) => Format.Invariant($"{Median(values):F2} s");
}
