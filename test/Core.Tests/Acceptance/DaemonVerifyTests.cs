using System.Diagnostics;
using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using Xunit.Abstractions;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// <c>datasync verify</c> through a running daemon, against production's own state restored from the base backup and
/// the archive: an identical table passes with a VERIFY OK row; three rows changed by hand locally (an UPDATE, a DELETE,
/// an INSERT) are named exactly, and nothing else; <c>--repair</c> makes the table identical while the other table keeps
/// syncing what production writes meanwhile; a second verify passes; and the verified table then resumes with every
/// production change applied once (the counts in data_sync_logs), including those made while it was held.
/// </summary>
public sealed class DaemonVerifyTests(ITestOutputHelper output)
{
    private const string Ddl = """
        CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, n int);
        CREATE TABLE events (id int PRIMARY KEY, what text);
        """;

    private static readonly Table Items = new("items", "id");
    private static readonly Table Events = new("events", "id");

    [Fact]
    public async Task Verify_names_the_three_local_changes_repairs_them_and_the_table_resumes_with_nothing_lost()
    {
        await using var production = await ProductionCluster.StartAsync("verify");
        await using var local = await LocalCluster.StartAsync("verify");
        // 25 000 rows: three ranges of the comparison (10 000 rows each).
        await production.ExecuteAsync(Ddl + """
            INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 25000) g;
            INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 100) g;
            """);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items events")).ExitCode);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, [Items, Events], daemon, TimeSpan.FromSeconds(120));
        // The checkpoint moves past the copy's point to a commit of the stream.
        await production.ExecuteAsync("UPDATE items SET n = n + 1 WHERE id % 100 = 0");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, [Items, Events], daemon, TimeSpan.FromSeconds(120));

        var identical = await CliRunner.RunAsync(config, "verify", "items");
        output.WriteLine($"$ datasync verify ...\n{identical.Out}{identical.Error}[exit {identical.ExitCode}]");
        Assert.True(identical.ExitCode == 0, identical.Out + identical.Error + daemon.LogTail());
        Assert.Matches(@"verify public\.items: identical to production at LSN [0-9A-F]+/[0-9A-F]+ \(base backup [^)]+\): 25000 rows in 3 range\(s\), 0 differences", identical.Out);
        Assert.Equal("OK: 25000 rows identical", await VerifyRowAsync(local, 1));

        await local.ExecuteAsync("""
            UPDATE items SET name = 'changed here' WHERE id = 10;
            DELETE FROM items WHERE id = 12345;
            INSERT INTO items VALUES (90000, 'local only', 0);
            """);
        var different = await CliRunner.RunAsync(config, "verify", "items");
        output.WriteLine($"$ datasync verify ...\n{different.Out}{different.Error}[exit {different.ExitCode}]");
        Assert.True(different.ExitCode == 1, different.Out + different.Error + daemon.LogTail());
        Assert.Contains("verify public.items: 3 difference(s) from production at LSN ", different.Out);
        Assert.Equal(["  different: id=10", "  extra locally: id=90000", "  missing locally: id=12345"],
            different.Out.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal("DIFFERENT: 3 row(s) differ", await VerifyRowAsync(local, 2));

        // The repair, while production writes to both tables: events keeps syncing, items is held and catches up after.
        var writing = new CancellationTokenSource();
        var writes = WriteWhileAsync(production, writing.Token);
        var clock = Stopwatch.StartNew();
        var repairStarted = await local.QueryScalarAsync<string>("SELECT now()::text");
        var repair = await CliRunner.RunAsync(config, "verify", "--repair", "items");
        var repairEnded = await local.QueryScalarAsync<string>("SELECT now()::text");
        await writing.CancelAsync();
        var (itemWrites, eventWrites) = await writes;
        output.WriteLine($"$ datasync verify ...\n{repair.Out}{repair.Error}[exit {repair.ExitCode}]");
        Assert.True(repair.ExitCode == 0, repair.Out + repair.Error + daemon.LogTail());
        Assert.Contains("verify public.items: repaired 3 row(s) from production in one local transaction; checkpoint ", repair.Out);
        Assert.Equal("3 = 1 + 1 + 1", await local.QueryScalarAsync<string>(
            "SELECT format('%s = %s + %s + %s', rows_synced, rows_inserted, rows_updated, rows_deleted) FROM data_sync_logs WHERE status = 'VERIFY' ORDER BY sync_time DESC LIMIT 1"));
        // The other table synced while items was held.
        Assert.True(await local.QueryScalarAsync<long>(
                $"SELECT count(*) FROM data_sync_logs WHERE table_name = 'public.events' AND status = 'SUCCESS' AND sync_time BETWEEN '{repairStarted}' AND '{repairEnded}'") > 0,
            $"events had no batch during the {clock.Elapsed.TotalSeconds:F0} s of the repair" + daemon.LogTail());

        await production.ExecuteAsync("INSERT INTO items SELECT g, 'after', g FROM generate_series(100001, 100020) g");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, [Items, Events], daemon, TimeSpan.FromSeconds(120));
        var again = await CliRunner.RunAsync(config, "verify", "items");
        output.WriteLine($"$ datasync verify ...\n{again.Out}{again.Error}[exit {again.ExitCode}]");
        Assert.True(again.ExitCode == 0, again.Out + again.Error + daemon.LogTail());

        // Exactly once: 250 updates before, the writes during the repair, 20 inserts after; the repair's rows are not SUCCESS rows.
        Assert.Equal(250L + itemWrites + 20, await RowsSyncedAsync(local, "items"));
        Assert.Equal((long)eventWrites, await RowsSyncedAsync(local, "events"));
        Assert.Equal("syncing", await local.QueryScalarAsync<string>(
            "SELECT state || coalesce(hold_restart_lsn::text, '') FROM datasync_table_state WHERE table_name = 'public.items'"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        await daemon.StopAsync();
    }

    [Fact]
    public async Task Without_a_daemon_verify_runs_in_the_command_and_the_daemon_resumes_after_its_repair()
    {
        await using var production = await ProductionCluster.StartAsync("verify-alone");
        await using var local = await LocalCluster.StartAsync("verify-alone");
        await production.ExecuteAsync(Ddl + "INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 2000) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items")).ExitCode);
        await using (var daemon = await DaemonRun.StartAsync(config, local))
        {
            await WaitIdenticalAsync(production, local, [Items], daemon, TimeSpan.FromSeconds(120));
            await production.ExecuteAsync("UPDATE items SET n = n + 1 WHERE id % 100 = 0");
            await production.SwitchSegmentAndWaitArchivedAsync();
            await WaitIdenticalAsync(production, local, [Items], daemon, TimeSpan.FromSeconds(120));
            await daemon.StopAsync();
        }

        await local.ExecuteAsync("UPDATE items SET n = -1 WHERE id = 5");
        var found = await CliRunner.RunAsync(config, "verify");
        output.WriteLine($"$ datasync verify\n{found.Out}{found.Error}[exit {found.ExitCode}]");
        Assert.True(found.ExitCode == 1, found.Out + found.Error);
        Assert.Equal(["  different: id=5"], found.Out.Split('\n').Where(l => l.StartsWith("  ", StringComparison.Ordinal)));
        var repaired = await CliRunner.RunAsync(config, "verify", "--repair", "items");
        Assert.True(repaired.ExitCode == 0, repaired.Out + repaired.Error);
        Assert.Equal(0, (await CliRunner.RunAsync(config, "verify", "items")).ExitCode);

        await production.ExecuteAsync("INSERT INTO items SELECT g, 'later', g FROM generate_series(3001, 3010) g");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await using var again = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, [Items], again, TimeSpan.FromSeconds(120));
        Assert.Equal(20L + 10, await RowsSyncedAsync(local, "items"));
        Assert.Equal(3L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'VERIFY'"));
        await again.StopAsync();
    }

    [Fact]
    public async Task A_hold_left_by_a_daemon_that_died_during_a_verify_is_released_at_the_next_start_and_nothing_is_lost()
    {
        await using var production = await ProductionCluster.StartAsync("verify-left");
        await using var local = await LocalCluster.StartAsync("verify-left");
        await production.ExecuteAsync(Ddl + "INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 1000) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items events")).ExitCode);
        await using (var daemon = await DaemonRun.StartAsync(config, local))
        {
            await WaitIdenticalAsync(production, local, [Items, Events], daemon, TimeSpan.FromSeconds(120));
            await daemon.StopAsync();
        }

        // What a verify holds when its daemon dies: items at its checkpoint, the stream point it resumes from kept with it.
        await local.ExecuteAsync("""
            UPDATE datasync_table_state s SET state = 'verifying', hold_restart_lsn = st.restart_lsn, hold_restart_segment = st.restart_segment
            FROM datasync_stream st WHERE s.table_name = 'public.items'
            """);
        Assert.Contains("table public.items: state verifying", (await CliRunner.RunAsync(config, "status", "--verbose")).Out);
        await production.ExecuteAsync("UPDATE items SET n = -n WHERE id % 10 = 0; INSERT INTO events VALUES (1, 'one')");
        await production.SwitchSegmentAndWaitArchivedAsync();

        await using var again = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, [Items, Events], again, TimeSpan.FromSeconds(120));
        Assert.Equal(100L, await RowsSyncedAsync(local, "items"));
        Assert.Equal(1L, await RowsSyncedAsync(local, "events"));
        Assert.Equal("syncing", await local.QueryScalarAsync<string>(
            "SELECT state || coalesce(hold_restart_lsn::text, '') FROM datasync_table_state WHERE table_name = 'public.items'"));
        Assert.Contains("released public.items, which a verify cut short", again.LogTail());
        await again.StopAsync();
    }

    /// <summary>The start of the newest VERIFY row's text but one, counted from the first (1-based), cut to the part the test knows.</summary>
    private static async Task<string> VerifyRowAsync(LocalCluster local, int number)
    {
        var detail = await local.QueryScalarAsync<string>($"SELECT error_detail FROM data_sync_logs WHERE status = 'VERIFY' ORDER BY sync_time OFFSET {number - 1} LIMIT 1");
        Assert.Equal(number, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'VERIFY'"));
        return detail.StartsWith("OK", StringComparison.Ordinal) ? detail[..24] : detail[..26];
    }

    /// <summary>Writes one row to each table every 300 ms, switching segments every second, until cancelled; returns the rows written to each.</summary>
    private static async Task<(int Items, int Events)> WriteWhileAsync(EmbeddedProduction production, CancellationToken stop)
    {
        var written = 0;
        var switched = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            written++;
            await production.ExecuteAsync($"INSERT INTO items VALUES ({200000 + written}, 'held', 0); INSERT INTO events VALUES ({1000 + written}, 'during')");
            if (switched.Elapsed > TimeSpan.FromSeconds(1))
            {
                await production.SwitchSegmentAndWaitArchivedAsync();
                switched.Restart();
            }

            try
            {
                await Task.Delay(300, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await production.SwitchSegmentAndWaitArchivedAsync();
        return (written, written);
    }
}
