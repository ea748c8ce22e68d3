using System.Text.RegularExpressions;
using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// A production session left idle in transaction (its write on a table that is not even synced) holds the stream's
/// restart point at its first record, so the spool keeps every segment from there on. <c>status --verbose</c> names
/// the transaction, where it holds the stream (LSN and archive file) and the spool's size; past SPOOL_WARN_MB the
/// daemon warns once in its log and once per table in data_sync_logs, however many cycles meet it. The tables keep
/// syncing meanwhile, report lag 0 once caught up, and a paused table says why.
/// </summary>
public sealed partial class DaemonLongTransactionTests
{
    private const string Ddl = """
        CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, n int);
        CREATE TABLE notes (id int PRIMARY KEY, body text);
        CREATE TABLE scratch (id int PRIMARY KEY);
        """;

    private static readonly Table[] Tables = [new("items", "id")];

    [Fact]
    public async Task An_idle_in_transaction_session_is_named_by_status_and_warned_of_once_when_the_spool_passes_its_bound()
    {
        await using var production = await ProductionCluster.StartAsync("long-xact", shape: new ProductionShape { WalSegmentSizeMb = 1 });
        await using var local = await LocalCluster.StartAsync("long-xact");
        await production.ExecuteAsync(Ddl + "INSERT INTO items SELECT g, 'i' || g, g FROM generate_series(1, 300) g; INSERT INTO notes VALUES (1, 'one');");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1\nSPOOL_WARN_MB = 5\nSCHEMA_CHANGES = \"pause\"");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items", "notes")).ExitCode);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));

        // The bootstrap names the last segment it read, which the archive has (not the one after it).
        var bootstrapRef = await local.QueryScalarAsync<string>("SELECT archive_ref FROM data_sync_logs WHERE status = 'BOOTSTRAP' AND table_name = 'public.items'");
        var copiedThrough = BootstrapSegment().Match(bootstrapRef).Groups[1].Value;
        Assert.Contains(copiedThrough, production.ArchivedSegments().Select(Path.GetFileName));

        // A session writes to a table nobody syncs and stays idle in its transaction.
        await using var idle = await production.Server.OpenAsync(production.DatabaseName);
        await using (var begin = idle.CreateCommand())
        {
            begin.CommandText = "BEGIN; INSERT INTO scratch VALUES (1);";
            await begin.ExecuteNonQueryAsync();
        }

        var xid = await Scalar<string>(idle, "SELECT pg_current_xact_id()::text");
        var heldFile = await Scalar<string>(idle, "SELECT pg_walfile_name(pg_current_wal_insert_lsn())");

        // Other sessions go on: the synced table changes, and nine 1 MB segments are archived past the open transaction.
        for (var i = 0; i < 9; i++)
        {
            await production.ExecuteAsync($"UPDATE items SET n = n + 1 WHERE id % 9 = {i}");
            await production.SwitchSegmentAndWaitArchivedAsync();
        }

        await production.ExecuteAsync("ALTER TABLE notes ADD COLUMN extra int; INSERT INTO items VALUES (1000, 'last', 0)");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));

        var verbose = await WaitForAsync(config, $"oldest open transaction: xid {xid} since ", "spool: ");
        var lines = verbose.Split('\n');
        var stream = Assert.Single(lines, l => l.StartsWith("stream: ", StringComparison.Ordinal));
        Assert.Matches($@"^stream: restart point [0-9A-F]+/[0-9A-F]+ \(archive file {heldFile}; keep the archive from it on\), last archive file read [0-9A-F]{{24}}$", stream);
        var oldest = Assert.Single(lines, l => l.StartsWith("oldest open transaction: ", StringComparison.Ordinal));
        Assert.Matches($@"^oldest open transaction: xid {xid} since [0-9A-F]+/[0-9A-F]+ \(archive file {heldFile}\), begun by \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(production's clock\), open at least .+ by the newest commit in the WAL", oldest);
        var spool = Assert.Single(lines, l => l.StartsWith("spool: ", StringComparison.Ordinal));
        var spooled = SpoolLine().Match(spool);
        Assert.True(spooled.Success, spool);
        Assert.True(int.Parse(spooled.Groups[1].Value) >= 9, spool);
        Assert.True(int.Parse(spooled.Groups[2].Value) >= 9, spool);
        Assert.True(int.Parse(spooled.Groups[3].Value) >= 9, spool);
        Assert.True(int.Parse(spooled.Groups[4].Value) >= 9, spool);
        // Caught up: nothing newer than its checkpoint has been archived, so no lag, however long ago its last batch was.
        Assert.Matches(@"(?m)^table public\.items: state syncing, checkpoint [0-9A-F]+/[0-9A-F]+, last archive file [0-9A-F]{24}, lag 0 s$", verbose);
        // A paused table says why.
        Assert.Matches(@"(?m)^table public\.notes: state paused, checkpoint [0-9A-F]+/[0-9A-F]+, last archive file [0-9A-F]{24}, lag [^;]+; .*production changed the table's definition .*then run: datasync resync public\.notes$", verbose);

        // status --json gives the same facts as values, for scripts.
        var json = await CliRunner.RunAsync(config, "status", "--json");
        Assert.Equal(0, json.ExitCode);
        Assert.Single(json.Out.TrimEnd('\n').Split('\n'));
        using (var document = System.Text.Json.JsonDocument.Parse(json.Out))
        {
            var root = document.RootElement;
            Assert.Equal("active", root.GetProperty("status").GetString());
            Assert.Equal(1, root.GetProperty("sync_frequency_seconds").GetInt32());
            var streamJson = root.GetProperty("stream");
            Assert.Equal(heldFile, streamJson.GetProperty("restart_archive_file").GetString());
            var held = streamJson.GetProperty("oldest_open_transaction");
            Assert.Equal(xid, held.GetProperty("xid").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(heldFile, held.GetProperty("archive_file").GetString());
            Assert.True(held.GetProperty("open_at_least_seconds").GetInt64() >= 0);
            Assert.True(streamJson.GetProperty("spool").GetProperty("decoded_kept_segments").GetInt32() >= 9);
            var tablesJson = root.GetProperty("tables").EnumerateArray().ToDictionary(t => t.GetProperty("table").GetString()!);
            Assert.Equal("syncing", tablesJson["public.items"].GetProperty("state").GetString());
            Assert.Equal(0, tablesJson["public.items"].GetProperty("lag_seconds").GetInt64());
            Assert.Equal("paused", tablesJson["public.notes"].GetProperty("state").GetString());
            Assert.Contains("then run: datasync resync public.notes", tablesJson["public.notes"].GetProperty("detail").GetString());
        }

        // One warning for every table ('*') for this hold, naming the transaction and the file; later cycles add none.
        await production.SwitchSegmentAndWaitArchivedAsync();
        await production.SwitchSegmentAndWaitArchivedAsync();
        await Task.Delay(TimeSpan.FromSeconds(3));
        var warnings = await local.QueryScalarAsync<long>(
            $"SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED' AND error_detail LIKE '%warning: the spool%'");
        Assert.True(warnings == 1, await local.QueryScalarAsync<string>(
            "SELECT string_agg(sync_time || ' ' || table_name || ' ' || archive_ref || ' ' || error_detail, E'\n' ORDER BY sync_time) FROM data_sync_logs WHERE status = 'FAILED'") +
            daemon.LogTail());
        var items = await local.QueryScalarAsync<string>(
            "SELECT archive_ref || ' | ' || error_detail FROM data_sync_logs WHERE status = 'FAILED' AND table_name = '*' AND error_detail LIKE '%warning: the spool%'");
        Assert.StartsWith($"{heldFile} | ", items);
        Assert.Contains($"; table every synced table; archive file {heldFile}; LSN ", items);
        Assert.Contains("more than SPOOL_WARN_MB (5): production transaction xid " + xid + " since ", items);
        Assert.Contains($"backend_xid = '{xid}'", items);
        var log = await File.ReadAllTextAsync(Path.Combine(local.Root, "state", "logs", "datasync.log"));
        Assert.Single(Regex.Matches(log, "warning: the spool "));
        Assert.Contains($"production transaction xid {xid} since ", log);

        // The transaction ends: the restart point moves on, nothing holds the stream, and the spool is trimmed.
        await using (var commit = idle.CreateCommand())
        {
            commit.CommandText = "COMMIT";
            await commit.ExecuteNonQueryAsync();
        }

        await production.ExecuteAsync("UPDATE items SET n = n + 1 WHERE id = 1");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
        var released = await WaitForAsync(config, "oldest open transaction: none");
        Assert.True(Regex.IsMatch(released, @"(?m)^spool: \d+ segment\(s\), \d+ MiB; decoded and kept for the restart point: [0-2] segment\(s\), [0-2] MiB \(warning above SPOOL_WARN_MB 5\)$"), released);
        // Counted once each: the spool warning and the paused table.
        Assert.Contains("\nerrors: 2\n", released);
        await daemon.StopAsync();
    }

    /// <summary><c>status --verbose</c> once it shows every one of <paramref name="wanted"/> (the daemon records after its next pass).</summary>
    private static async Task<string> WaitForAsync(string config, params string[] wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var status = await CliRunner.RunAsync(config, "status", "--verbose");
            Assert.True(status.ExitCode == 0, status.Error + status.Out);
            if (wanted.All(w => status.Out.Contains(w, StringComparison.Ordinal))) return status.Out;
            Assert.True(DateTime.UtcNow < deadline, $"status --verbose never showed {string.Join(", ", wanted)}:\n{status.Out}");
            await Task.Delay(500);
        }
    }

    private static async Task<T> Scalar<T>(Npgsql.NpgsqlConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)(await command.ExecuteScalarAsync())!;
    }

    [GeneratedRegex(@"WAL to ([0-9A-F]{24})$")]
    private static partial Regex BootstrapSegment();

    [GeneratedRegex(@"^spool: (\d+) segment\(s\), (\d+) MiB; decoded and kept for the restart point: (\d+) segment\(s\), (\d+) MiB \(warning above SPOOL_WARN_MB 5\)$")]
    private static partial Regex SpoolLine();
}
