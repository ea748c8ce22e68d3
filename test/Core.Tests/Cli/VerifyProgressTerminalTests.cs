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
/// <c>datasync verify</c> against a running daemon in a terminal (a tmux session, read back as screen text with
/// capture-pane): the progress line is redrawn in place through the restore and the comparison (400,000 rows, forty
/// ranges, long enough to be seen), never more than one line, then gives way to the verdict.
/// </summary>
public sealed partial class VerifyProgressTerminalTests(ITestOutputHelper output)
{
    private const int Rows = 400_000;
    private static readonly Table Big = new("big", "id");

    [Fact]
    public async Task On_a_terminal_the_restore_then_the_comparison_bar_show_in_place_then_the_verdict_and_exit_code_0()
    {
        await using var production = await ProductionCluster.StartAsync("verify-bar");
        await using var local = await LocalCluster.StartAsync("verify-bar");
        const string ddl = "CREATE TABLE big (id int PRIMARY KEY, n int NOT NULL)";
        await production.ExecuteAsync($"{ddl}; INSERT INTO big SELECT g, g FROM generate_series(1, {Rows}) g; ANALYZE big");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "big")).ExitCode);
        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, [Big], daemon, TimeSpan.FromMinutes(3));
        // The checkpoint moves past the base backup's end to a commit of the stream.
        await production.ExecuteAsync("UPDATE big SET n = n + 1 WHERE id % 1000 = 0");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, [Big], daemon, TimeSpan.FromMinutes(2));

        var tmux = new Tmux($"datasync-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var cli = typeof(DataSyncCli).Assembly.Location;
        // The pane stays after the command (sleep) so its last screen can be read; the exit code is printed into it.
        var command = $"DATA_SYNC_CONFIG={Tmux.Quote(config)} {Tmux.Quote(dotnet)} {Tmux.Quote(cli)} verify big; echo \"exit code $?\"; sleep 600";
        await tmux.RunAsync("new-session", "-d", "-s", "verify", "-x", "160", "-y", "24", command);
        try
        {
            var screens = new List<string>();
            var deadline = DateTime.UtcNow.AddMinutes(4);
            string screen;
            while (true)
            {
                screen = await tmux.RunAsync("capture-pane", "-p", "-t", "verify");
                if (screens.Count == 0 || screens[^1] != screen) screens.Add(screen);
                if (screen.Contains("exit code ", StringComparison.Ordinal)) break;
                Assert.True(DateTime.UtcNow < deadline, "verify did not end within 4 minutes; last screen:\n" + screen + daemon.LogTail());
                await Task.Delay(100);
            }

            output.WriteLine(string.Join("\n----\n", screens.Select(s => s.TrimEnd())));
            var all = string.Join("\n----\n", screens);
            Assert.Matches(@"(?m)^verify public\.big: identical to production at LSN [0-9A-F]+/[0-9A-F]+ \(base backup [^)]+\): 400000 rows in \d+ range\(s\), 0 differences", screen);
            Assert.Contains("exit code 0", screen);
            // The bar gave way to the verdict: no progress line is left on the screen.
            Assert.DoesNotContain("verify public.big: restoring", screen);
            Assert.DoesNotContain("verify public.big: comparing rows", screen);

            // While it ran: one progress line at most, never as wide as the pane; the restore, then rows compared against the estimate.
            var phases = new List<string>();
            var compared = new List<long>();
            foreach (var before in screens.Where(s => !s.Contains("exit code ", StringComparison.Ordinal)))
            {
                var progressLines = before.Split('\n').Where(l => l.StartsWith("verify public.big: ", StringComparison.Ordinal)).ToList();
                Assert.True(progressLines.Count <= 1, "more than one progress line on the screen:\n" + before);
                Assert.All(before.Split('\n'), l => Assert.True(l.Length < 160, $"a line as wide as the pane: '{l}'"));
                if (progressLines.Count == 0) continue;
                var phase = PhaseOf().Match(progressLines[0]).Groups[1].Value;
                if (phases.Count == 0 || phases[^1] != phase) phases.Add(phase);
                if (BarLine().Match(progressLines[0]) is { Success: true } bar)
                {
                    compared.Add(long.Parse(bar.Groups[4].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture));
                    Assert.InRange(long.Parse(bar.Groups[5].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture), Rows * 9 / 10, Rows * 11 / 10);
                    Assert.Equal(40, bar.Groups[1].Length + bar.Groups[2].Length);
                }
            }

            Assert.True(phases.Contains("restoring and replaying to the checkpoint") && phases.Contains("comparing rows"),
                "the restore and the comparison were not both seen:\n" + all);
            Assert.True(phases.IndexOf("restoring and replaying to the checkpoint") < phases.IndexOf("comparing rows"), string.Join(", ", phases));
            Assert.NotEmpty(compared);
            Assert.Equal(compared.Order(), compared);
        }
        finally
        {
            await tmux.KillAsync();
        }
    }

    // "verify public.big: comparing rows [#####-----] 42% ..." → "comparing rows"; "verify public.big: preparing (...)" → "preparing"
    [GeneratedRegex(@"^verify public\.big: ([a-z ]+?)(?: \[| \(| \d|$)")]
    private static partial Regex PhaseOf();

    // "verify public.big: comparing rows [#####-----] 42% 168,000/~400,000 rows ..."
    [GeneratedRegex(@"comparing rows \[(#*)(-*)\] +(\d+)% ([\d,]+)/~([\d,]+) rows")]
    private static partial Regex BarLine();
}
