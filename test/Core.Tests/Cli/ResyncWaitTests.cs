using System.Globalization;
using System.Text.RegularExpressions;
using DataSync.Cli;
using DataSync.Core.Tests.Acceptance;
using DataSync.Embedded;
using DataSync.TestRig;
using Xunit.Abstractions;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Cli;

/// <summary>
/// <c>datasync resync T --wait</c> against a running daemon, with a table whose copy takes about ten seconds: the local
/// table has a trigger (enabled ALWAYS, so it fires in the apply session too) that sleeps 0.2 s every 2,000 rows inserted,
/// which slows the bootstrap's COPY deterministically. On a terminal (a tmux session, read back as screen text with
/// capture-pane) the bar advances in place and gives way to the final line; without one, plain lines are printed.
/// </summary>
public sealed partial class ResyncWaitTests(ResyncWaitTests.Cluster cluster, ITestOutputHelper output) : IClassFixture<ResyncWaitTests.Cluster>
{
    private const int Rows = 100_000;
    private const string RowsText = "100,000";
    private static readonly Table Big = new("big", "id");

    [Fact]
    public async Task On_a_terminal_the_bar_advances_in_place_then_the_done_line_and_exit_code_0()
    {
        var tmux = new Tmux($"datasync-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var cli = typeof(DataSyncCli).Assembly.Location;
        // The pane stays after the command (sleep) so its last screen can be read; the exit code is printed into it.
        var command = $"DATA_SYNC_CONFIG={Tmux.Quote(cluster.Config)} {Tmux.Quote(dotnet)} {Tmux.Quote(cli)} resync big --wait; echo \"exit code $?\"; sleep 600";
        await tmux.RunAsync("new-session", "-d", "-s", "resync", "-x", "160", "-y", "24", command);
        try
        {
            var screens = new List<string>();
            var deadline = DateTime.UtcNow.AddMinutes(4);
            var statusChecked = false;
            string screen;
            while (true)
            {
                screen = await tmux.RunAsync("capture-pane", "-p", "-t", "resync");
                if (screens.Count == 0 || screens[^1] != screen) screens.Add(screen);
                // Early in the copy (it takes about ten seconds), status shows the same progress.
                if (!statusChecked && BarLine().Match(screen) is { Success: true } early && int.Parse(early.Groups[3].Value, CultureInfo.InvariantCulture) < 60)
                {
                    await AssertStatusShowsTheCopyAsync();
                    statusChecked = true;
                }

                if (screen.Contains("exit code ", StringComparison.Ordinal)) break;
                Assert.True(DateTime.UtcNow < deadline, "resync --wait did not end within 4 minutes; last screen:\n" + screen + cluster.Daemon.LogTail());
                await Task.Delay(200);
            }

            output.WriteLine(string.Join("\n----\n", screens.Select(s => s.TrimEnd())));
            Assert.True(statusChecked, "no copying bar below 60 % was seen to check status against:\n" + string.Join("\n----\n", screens));
            Assert.Contains("resync of public.big started; the other tables keep syncing", screen);
            Assert.Matches(@$"resync public\.big: done, synced again \(public\.big: {RowsText} rows copied in \d+(m\d\ds)?s?\)", screen);
            Assert.Contains("exit code 0", screen);
            // The bar gave way to the final line: it is not left on the screen.
            Assert.DoesNotContain("copying rows", screen);

            // While it ran, the bar was one line, redrawn in place (never a second progress line), never wider than the pane.
            var copying = new List<(long Rows, long Total, int Filled, int Width)>();
            foreach (var before in screens.Where(s => !s.Contains("exit code ", StringComparison.Ordinal)))
            {
                var progressLines = before.Split('\n').Where(l => l.StartsWith("resync public.big: ", StringComparison.Ordinal)).ToList();
                Assert.True(progressLines.Count <= 1, "more than one progress line on the screen:\n" + before);
                Assert.All(before.Split('\n'), l => Assert.True(l.Length < 160, $"a line as wide as the pane: '{l}'"));
                if (progressLines.Count == 1 && BarLine().Match(progressLines[0]) is { Success: true } bar)
                {
                    copying.Add((long.Parse(bar.Groups[4].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture),
                        long.Parse(bar.Groups[5].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture),
                        bar.Groups[1].Length, bar.Groups[1].Length + bar.Groups[2].Length));
                }
            }

            var distinct = copying.DistinctBy(c => c.Rows).ToList();
            Assert.True(distinct.Count >= 2, "fewer than two copying bars with different row counts were seen:\n" + string.Join("\n----\n", screens));
            // It advances: each count at least the one before, the bar filled no less, against the restore's estimate of the rows.
            Assert.Equal(distinct.Select(c => c.Rows).Order(), distinct.Select(c => c.Rows));
            Assert.Equal(distinct.Select(c => c.Filled).Order(), distinct.Select(c => c.Filled));
            Assert.All(distinct, c => Assert.InRange(c.Total, Rows * 9 / 10, Rows * 11 / 10));
            Assert.All(distinct, c => Assert.Equal(40, c.Width));
            Assert.True(distinct[0].Rows < distinct[^1].Rows);

            await WaitIdenticalAsync(cluster.Production, cluster.Local, [Big], cluster.Daemon, TimeSpan.FromSeconds(60));
        }
        finally
        {
            await tmux.KillAsync();
        }
    }

    [Fact]
    public async Task Without_a_terminal_plain_lines_are_printed_and_the_exit_code_is_0()
    {
        var result = await CliRunner.RunAsync(cluster.Config, "resync", "big", "--wait");
        output.WriteLine(result.Out);
        Assert.True(result.ExitCode == 0, result.Error + result.Out + cluster.Daemon.LogTail());
        Assert.DoesNotContain('\r', result.Out);
        Assert.DoesNotContain('\u001b', result.Out);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("resync of public.big started; the other tables keep syncing", lines[0]);
        Assert.Matches(@$"^resync public\.big: done, synced again \(public\.big: {RowsText} rows copied in \d+(m\d\ds)?s?\)$", lines[^1]);
        Assert.All(lines[1..^1], l => Assert.StartsWith("resync public.big: ", l));

        // About ten seconds of copying at one line per 2 s: several lines, their counts rising, with a rate and the time left.
        var copying = lines.Select(l => PlainCopyLine().Match(l)).Where(m => m.Success).ToList();
        Assert.True(copying.Count >= 2, "fewer than two plain copying lines:\n" + result.Out);
        var counts = copying.Select(m => long.Parse(m.Groups[2].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(counts.Order(), counts);
        Assert.True(counts[0] < counts[^1], "the plain lines' row counts did not rise:\n" + result.Out);
        Assert.Contains(copying, m => m.Groups[4].Success && m.Groups[5].Success);
        Assert.Equal("", result.Error);

        await WaitIdenticalAsync(cluster.Production, cluster.Local, [Big], cluster.Daemon, TimeSpan.FromSeconds(60));
        Assert.Equal("syncing", await cluster.Local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.big'"));
    }

    [Fact]
    public async Task A_resync_that_fails_exits_1_with_the_failure_s_message()
    {
        // ghost is listed (add-tables checks only the local database) but production has no such table: its bootstrap refuses it.
        var result = await CliRunner.RunAsync(cluster.Config, "resync", "ghost", "--wait");
        Assert.True(result.ExitCode == 1, result.Error + result.Out + cluster.Daemon.LogTail());
        var last = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("resync of public.ghost failed: ", last);
        Assert.Contains("has no table public.ghost", last);
        Assert.Contains("datasync remove-tables public.ghost", last);
        Assert.Equal($"datasync: {last}\n", result.Error);
        Assert.Equal("failed", await cluster.Local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.ghost'"));
    }

    /// <summary>While the copy runs, <c>status --verbose</c> has its progress line and <c>status --json</c> its object.</summary>
    private async Task AssertStatusShowsTheCopyAsync()
    {
        var verbose = await CliRunner.RunAsync(cluster.Config, "status", "--verbose");
        Assert.Matches(@"(?m)^bootstrap progress: public\.big: copying rows \d+% \([\d,]+/~[\d,]+ rows\)", verbose.Out);
        var json = await CliRunner.RunAsync(cluster.Config, "status", "--json");
        using var document = System.Text.Json.JsonDocument.Parse(json.Out);
        var progress = document.RootElement.GetProperty("bootstrap_progress");
        Assert.Equal("copying", progress.GetProperty("phase").GetString());
        Assert.Equal("public.big", Assert.Single(progress.GetProperty("tables").EnumerateArray()).GetString());
        var copy = Assert.Single(progress.GetProperty("copies").EnumerateArray());
        Assert.Equal("public.big", copy.GetProperty("table").GetString());
        Assert.InRange(copy.GetProperty("rows_estimated").GetInt64(), Rows * 9 / 10, Rows * 11 / 10);
        Assert.InRange(copy.GetProperty("rows_copied").GetInt64(), 0, Rows);
        Assert.True(progress.GetProperty("restore_total_bytes").GetInt64() > 30L << 20, json.Out);
        Assert.Equal(progress.GetProperty("restore_total_bytes").GetInt64(), progress.GetProperty("restored_bytes").GetInt64());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, progress.GetProperty("replay_target_lsn").ValueKind);
    }

    // "resync public.big: copying rows [#####-----] 42% 42,000/~100,000 rows ..."
    [GeneratedRegex(@"copying rows \[(#*)(-*)\] +(\d+)% ([\d,]+)/~([\d,]+) rows")]
    private static partial Regex BarLine();

    // "resync public.big: copying rows 42% (42,000/~100,000 rows), 8,400 rows/s, ETA 7s"
    [GeneratedRegex(@"^resync public\.big: copying rows (\d+)% \(([\d,]+)/~([\d,]+) rows\)(, [\d,]+ rows/s)?(, ETA \S+)?$")]
    private static partial Regex PlainCopyLine();

    /// <summary>
    /// Production with a 100,000-row table (analyzed, so the restore's statistics estimate it) in a plain base backup, the
    /// local table synced by a running daemon, then the trigger that slows every later copy into it; and a listed table
    /// production lacks (refused at its bootstrap).
    /// </summary>
    public sealed class Cluster : IAsyncLifetime
    {
        public ProductionCluster Production { get; private set; } = null!;
        public LocalCluster Local { get; private set; } = null!;
        public string Config { get; private set; } = null!;
        internal DaemonRun Daemon { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Production = await ProductionCluster.StartAsync("resync-wait");
            Local = await LocalCluster.StartAsync("resync-wait");
            const string ddl = "CREATE TABLE big (id int PRIMARY KEY, filler text NOT NULL)";
            await Production.ExecuteAsync($"{ddl}; INSERT INTO big SELECT g, repeat(md5(g::text), 10) FROM generate_series(1, {Rows}) g; ANALYZE big");
            await Production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
            await Production.SwitchSegmentAndWaitArchivedAsync();
            await Local.ExecuteAsync(ddl + "; CREATE TABLE ghost (id int PRIMARY KEY)");
            Config = await TestConfig.WriteAsync(Local, Production, "DATA_SYNC_FREQ = 1");
            Assert.Equal(0, (await CliRunner.RunAsync(Config, "add-tables", "big, ghost")).ExitCode);
            Daemon = await DaemonRun.StartAsync(Config, Local);
            await WaitIdenticalAsync(Production, Local, [Big], Daemon, TimeSpan.FromMinutes(3));
            await Local.ExecuteAsync("""
                CREATE FUNCTION slow_copy() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.id % 2000 = 0 THEN PERFORM pg_sleep(0.2); END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER slow_copy BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION slow_copy();
                ALTER TABLE big ENABLE ALWAYS TRIGGER slow_copy;
                """);
        }

        public async Task DisposeAsync()
        {
            if (Daemon is not null)
            {
                await Daemon.StopAsync();
                await Daemon.DisposeAsync();
            }

            if (Local is not null) await Local.DisposeAsync();
            if (Production is not null) await Production.DisposeAsync();
        }
    }
}
