using System.Globalization;
using System.Net.Http;
using System.Text.RegularExpressions;
using DataSync.Core.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.Embedded;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// With METRICS_PORT set, the daemon serves Prometheus text on 127.0.0.1 only: scraped while a workload syncs, the rows
/// applied by operation move by exactly what production committed, the table's state and lag are there, and the stream
/// and spool gauges are set.
/// </summary>
public sealed partial class DaemonMetricsTests
{
    private static readonly Table[] Tables = [new("orders", "id")];

    [Fact]
    public async Task Metrics_are_served_on_loopback_and_move_as_rows_apply()
    {
        await using var production = await ProductionCluster.StartAsync("metrics", shape: new ProductionShape { WalSegmentSizeMb = 2, Superuser = "ops", Database = "sales" });
        await using var local = await LocalCluster.StartAsync("metrics");
        const string ddl = "CREATE TABLE orders (id int PRIMARY KEY, note text);";
        await production.ExecuteAsync(ddl + "INSERT INTO orders SELECT g, 'first' FROM generate_series(1, 100) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(ddl);
        var port = PostgresServer.FindFreePort();
        var config = await TestConfig.WriteAsync(local, production, $"DATA_SYNC_FREQ = 1\nMETRICS_PORT = {port}");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "orders")).ExitCode);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));

        // Bound to the loopback address, not to every interface.
        Assert.Equal("127.0.0.1", ListeningAddress(port));

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = $"http://127.0.0.1:{port}/metrics";
        var before = await http.GetStringAsync(url);
        Assert.Equal(1, Value(before, "datasync_table_state", ("table", "public.orders"), ("state", "syncing")));
        Assert.Equal(0, Value(before, "datasync_table_state", ("table", "public.orders"), ("state", "paused")));
        Assert.Equal(1, Value(before, "datasync_local_database_up"));
        var insertedBefore = ValueOrZero(before, "datasync_rows_applied_total", ("table", "public.orders"), ("operation", "insert"));
        var updatedBefore = ValueOrZero(before, "datasync_rows_applied_total", ("table", "public.orders"), ("operation", "update"));
        var deletedBefore = ValueOrZero(before, "datasync_rows_applied_total", ("table", "public.orders"), ("operation", "delete"));
        var decodedBefore = Value(before, "datasync_wal_decoded_bytes_total");

        await production.ExecuteAsync("""
            INSERT INTO orders SELECT g, 'second' FROM generate_series(101, 350) g;
            UPDATE orders SET note = 'changed' WHERE id <= 40;
            DELETE FROM orders WHERE id > 340;
            """);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));

        // The counters follow the batch's commit; a scrape right after the tables match may still see the old values.
        string after = "";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            after = await http.GetStringAsync(url);
            if (ValueOrZero(after, "datasync_rows_applied_total", ("table", "public.orders"), ("operation", "delete")) >= deletedBefore + 10) break;
            await Task.Delay(200); // Polling the daemon's endpoint, bounded by the deadline above.
        }

        Assert.Equal(insertedBefore + 250, ValueOrZero(after, "datasync_rows_applied_total", ("table", "public.orders"), ("operation", "insert")));
        Assert.Equal(updatedBefore + 40, ValueOrZero(after, "datasync_rows_applied_total", ("table", "public.orders"), ("operation", "update")));
        Assert.Equal(deletedBefore + 10, ValueOrZero(after, "datasync_rows_applied_total", ("table", "public.orders"), ("operation", "delete")));
        Assert.True(Value(after, "datasync_wal_decoded_bytes_total") > decodedBefore, "WAL decoded did not move");
        Assert.Equal(0, Value(after, "datasync_table_lag_seconds", ("table", "public.orders")));
        Assert.Equal(0, Value(after, "datasync_table_lag_bytes", ("table", "public.orders")));
        Assert.True(Value(after, "datasync_stream_restart_lsn_bytes") > 0);
        // Caught up, the spool may be empty (it keeps segments from the restart point on); the series is there all the same.
        Assert.Equal(Value(after, "datasync_spool_segments") == 0, Value(after, "datasync_spool_bytes") == 0);
        Assert.Equal(0, Value(after, "datasync_bootstrap_pending_tables"));
        Assert.Contains("# TYPE datasync_rows_applied_total counter", after, StringComparison.Ordinal);
        Assert.Contains("process_working_set_bytes", after, StringComparison.Ordinal);
        Assert.DoesNotContain(local.Password, after, StringComparison.Ordinal);
    }

    /// <summary>The sample's value; fails the test when the series is absent.</summary>
    private static double Value(string text, string name, params (string Label, string Value)[] labels) =>
        Find(text, name, labels) ?? throw new Xunit.Sdk.XunitException($"no sample {name}{{{string.Join(",", labels.Select(l => $"{l.Label}=\"{l.Value}\""))}}} in:\n{text}");

    /// <summary>A counter's value, 0 before its first increment (prometheus-net shows a labelled series once it exists).</summary>
    private static double ValueOrZero(string text, string name, params (string Label, string Value)[] labels) => Find(text, name, labels) ?? 0;

    private static double? Find(string text, string name, (string Label, string Value)[] labels)
    {
        foreach (var line in text.Split('\n'))
        {
            var sample = Sample().Match(line);
            if (!sample.Success || sample.Groups["name"].Value != name) continue;
            var found = LabelPair().Matches(sample.Groups["labels"].Value).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
            if (found.Count == labels.Length && labels.All(l => found.TryGetValue(l.Label, out var v) && v == l.Value))
                return double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return null;
    }

    /// <summary>The IPv4 address a listening TCP socket on <paramref name="port"/> is bound to, from /proc/net/tcp (and none on IPv6).</summary>
    private static string ListeningAddress(int port)
    {
        var hex = port.ToString("X4", CultureInfo.InvariantCulture);
        var v6 = File.Exists("/proc/net/tcp6") ? File.ReadLines("/proc/net/tcp6").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)) : [];
        Assert.DoesNotContain(v6, f => f[1].EndsWith(":" + hex, StringComparison.Ordinal) && f[3] == "0A");
        var listening = File.ReadLines("/proc/net/tcp").Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f[1].EndsWith(":" + hex, StringComparison.Ordinal) && f[3] == "0A")
            .Select(f => f[1][..8])
            .ToList();
        var address = Assert.Single(listening);
        var raw = uint.Parse(address, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return string.Join('.', BitConverter.GetBytes(raw));
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)")]
    private static partial Regex Sample();

    [GeneratedRegex("(\\w+)=\"([^\"]*)\"")]
    private static partial Regex LabelPair();
}
