using DataSync.Cli.Progress;
using DataSync.Core.Verify;
using DataSync.Messages.Control;

namespace DataSync.Core.Tests.Cli;

/// <summary>
/// The two progress displays, byte for byte: the terminal's line redrawn in place and fitted to the width, and the plain
/// lines printed when the phase changes and at most every interval otherwise.
/// </summary>
public sealed class ProgressDisplayTests
{
    private const string Erase = "\u001b[K";

    // 42,000 of about 100,000 rows after 5 s: 8,400 rows/s, 58,000 rows left: 6.9 s.
    private static readonly ProgressFrame Copying = ProgressFrame.Measured("resync public.t", "copying rows", 42_000, 100_000, ProgressUnit.Rows, TimeSpan.FromSeconds(5));

    [Fact]
    public void A_wide_terminal_gets_the_bar_percent_amount_rate_and_time_left()
    {
        var line = TerminalProgressDisplay.Fit(Copying, 120);
        Assert.Equal("resync public.t: copying rows [" + new string('#', 17) + new string('-', 23) + "] 42% 42,000/~100,000 rows 8,400 rows/s ETA 7s", line);
        Assert.True(line.Length <= 119);
    }

    [Fact]
    public void A_narrower_terminal_loses_the_bar_first_then_the_rate_the_time_left_and_the_amount()
    {
        Assert.Equal("resync public.t: copying rows 42% 42,000/~100,000 rows 8,400 rows/s ETA 7s", TerminalProgressDisplay.Fit(Copying, 80));
        Assert.Equal("resync public.t: copying rows 42% 42,000/~100,000 rows ETA 7s", TerminalProgressDisplay.Fit(Copying, 70));
        Assert.Equal("resync public.t: copying rows 42% 42,000/~100,000 rows", TerminalProgressDisplay.Fit(Copying, 60));
        Assert.Equal("resync public.t: copying rows 42%", TerminalProgressDisplay.Fit(Copying, 40));
        Assert.Equal("resync public.t: copy", TerminalProgressDisplay.Fit(Copying, 22));
    }

    [Fact]
    public void The_terminal_redraws_one_line_in_place_and_ends_it_with_the_final_line()
    {
        var screen = new StringWriter();
        var width = 120;
        var display = new TerminalProgressDisplay(screen, () => width);
        display.Message("resync of public.t started; the other tables keep syncing");
        var restoring = ProgressFrame.Measured("resync public.t", "restoring base backup b1", 10L << 20, 40L << 20, ProgressUnit.Bytes, TimeSpan.FromSeconds(2));
        display.Show(restoring);
        width = 60;
        display.Show(Copying);
        display.Finish("resync public.t: done, synced again (public.t: 100,000 rows copied in 12s)");

        Assert.Equal(
            "\r" + Erase + "resync of public.t started; the other tables keep syncing\n" +
            "\rresync public.t: restoring base backup b1 [" + new string('#', 9) + new string('-', 27) + "] 25% 10.0 MiB/40.0 MiB 5.0 MiB/s ETA 6s" + Erase +
            "\rresync public.t: copying rows 42% 42,000/~100,000 rows" + Erase +
            "\r" + Erase + "resync public.t: done, synced again (public.t: 100,000 rows copied in 12s)\n",
            screen.ToString());
        // Nothing but the final line ends with a newline: the bar never scrolls the screen.
        Assert.Equal(2, screen.ToString().Count(c => c == '\n'));
    }

    [Fact]
    public void A_message_while_the_bar_shows_goes_above_it_and_the_bar_comes_back()
    {
        var screen = new StringWriter();
        var display = new TerminalProgressDisplay(screen, () => 60);
        display.Show(Copying);
        display.Message("note");
        Assert.Equal(
            "\rresync public.t: copying rows 42% 42,000/~100,000 rows" + Erase +
            "\r" + Erase + "note\n" +
            "\rresync public.t: copying rows 42% 42,000/~100,000 rows" + Erase,
            screen.ToString());
    }

    [Fact]
    public void Plain_lines_come_at_a_phase_change_and_at_most_every_interval_otherwise()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 6, 7, 0, 0, TimeSpan.Zero));
        var output = new StringWriter();
        var display = new PlainProgressDisplay(output, clock, TimeSpan.FromSeconds(2));
        var replaying = new ProgressFrame("resync public.t", "replaying WAL", 1L << 20, 4L << 20, ProgressUnit.WalBytes, null, null);
        display.Show(replaying);
        clock.Now += TimeSpan.FromSeconds(1);
        display.Show(replaying with { Done = 2L << 20 });
        clock.Now += TimeSpan.FromSeconds(1);
        display.Show(replaying with { Done = 3L << 20, PerSecond = 1.5 * (1 << 20), Eta = TimeSpan.FromSeconds(1) });
        clock.Now += TimeSpan.FromMilliseconds(100);
        display.Show(Copying);
        clock.Now += TimeSpan.FromMilliseconds(100);
        display.Show(Copying with { Done = 50_000 });
        display.Finish("resync public.t: done, synced again (public.t: 100,000 rows copied in 12s)");

        Assert.Equal(
            [
                "resync public.t: replaying WAL 25% (1.0 MiB/4.0 MiB of WAL)",
                "resync public.t: replaying WAL 75% (3.0 MiB/4.0 MiB of WAL), 1.5 MiB/s, ETA 1s",
                "resync public.t: copying rows 42% (42,000/~100,000 rows), 8,400 rows/s, ETA 7s",
                "resync public.t: done, synced again (public.t: 100,000 rows copied in 12s)",
            ],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain('\r', output.ToString());
        Assert.DoesNotContain('\u001b', output.ToString());
    }

    [Fact]
    public void A_frame_without_a_total_shows_what_it_knows_and_a_waiting_phase_its_note()
    {
        var rows = ProgressFrame.Measured("resync public.t", "copying rows", 1_234, null, ProgressUnit.Rows, TimeSpan.FromSeconds(2));
        Assert.Equal("resync public.t: copying rows 1,234 rows, 617 rows/s", ProgressText.Line(rows));
        Assert.Equal("resync public.t: copying rows 1,234 rows 617 rows/s", TerminalProgressDisplay.Fit(rows, 100));
        var queued = new ProgressFrame("resync public.t", "waiting to try again", 0, null, ProgressUnit.None, null, null, "WAL not archived yet");
        Assert.Equal("resync public.t: waiting to try again; WAL not archived yet", ProgressText.Line(queued));
        Assert.Equal("resync public.t: waiting to try again (WAL not archived yet)", TerminalProgressDisplay.Fit(queued, 100));
    }

    [Fact]
    public void A_bootstrap_report_becomes_bytes_then_wal_then_the_followed_tables_rows()
    {
        var running = new BootstrapProgressStatus(["public.t", "public.u"], "restoring", null, "b1", 3, 2, 10L << 20, 40L << 20, null, null, null, []);
        var frame = BootstrapFrame.From("resync public.t", running, ["public.t"]);
        Assert.Equal((10L << 20, 40L << 20, ProgressUnit.Bytes), (frame.Done, frame.Total!.Value, frame.Unit));

        frame = BootstrapFrame.From("resync public.t", running with { Phase = "replaying", ReplayFromLsn = "0/2000028", ReplayedLsn = "0/3000028", ReplayTargetLsn = "0/6000028" }, ["public.t"]);
        Assert.Equal((1L << 24, 4L << 24, ProgressUnit.WalBytes), (frame.Done, frame.Total!.Value, frame.Unit));

        frame = BootstrapFrame.From("resync public.t", running with { Phase = "copying" }, ["public.t"]);
        Assert.Equal("resync public.t: copying rows", ProgressText.Line(frame));

        var copies = new[] { new TableCopyStatus("public.u", 900, 1_000, 1, false), new TableCopyStatus("public.t", 300, 1_200, 1, false) };
        frame = BootstrapFrame.From("resync public.t", running with { Phase = "copying", Copies = copies }, ["public.t"]);
        Assert.Equal((300L, 1_200L, ProgressUnit.Rows), (frame.Done, frame.Total!.Value, frame.Unit));
        // A table without statistics leaves the total unknown.
        frame = BootstrapFrame.From("resync public.t", running with { Phase = "copying", Copies = [copies[1] with { RowsEstimated = null }] }, ["public.t"]);
        Assert.Null(frame.Total);
    }

    [Fact]
    public void A_verify_shows_its_restore_then_rows_compared_against_the_estimate_on_a_terminal_and_clears_the_bar_for_the_verdict()
    {
        var screen = new StringWriter();
        var display = new TerminalProgressDisplay(screen, () => 120);
        display.Show(VerifyFrame.From(new VerifyProgress("public.t", VerifyPhase.Restoring, "replayed up to 0/3000000 of 0/4000000", 0, null, TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(2))));
        // 25,000 of about 100,000 rows in 5 s of comparing: 5,000 rows/s, 75,000 left: 15 s.
        display.Show(VerifyFrame.From(new VerifyProgress("public.t", VerifyPhase.Comparing, null, 25_000, 100_000, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(9))));
        display.Clear();
        display.Clear();

        Assert.Equal(
            "\rverify public.t: restoring and replaying to the checkpoint (replayed up to 0/3000000 of 0/4000000)" + Erase +
            "\rverify public.t: comparing rows [" + new string('#', 10) + new string('-', 29) + "] 25% 25,000/~100,000 rows 5,000 rows/s ETA 15s" + Erase +
            "\r" + Erase,
            screen.ToString());
    }

    [Fact]
    public void A_verify_in_plain_lines_names_each_phase_and_the_rows_compared_with_their_rate()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 12, 6, 7, 0, 0, TimeSpan.Zero));
        var output = new StringWriter();
        var display = new PlainProgressDisplay(output, clock, TimeSpan.FromSeconds(2));
        void Report(VerifyPhase phase, string? detail, long rows, long? estimated, double phaseSeconds) =>
            display.Show(VerifyFrame.From(new VerifyProgress("public.t", phase, detail, rows, estimated, TimeSpan.FromSeconds(phaseSeconds), TimeSpan.Zero)));

        Report(VerifyPhase.Preparing, "holding the table at its checkpoint", 0, null, 0);
        Report(VerifyPhase.Restoring, "restoring base backup b1", 0, null, 0);
        clock.Now += TimeSpan.FromSeconds(1);
        Report(VerifyPhase.Restoring, "replayed up to 0/3000000 of 0/4000000", 0, null, 1);
        Report(VerifyPhase.Comparing, null, 0, 40_000, 0);
        clock.Now += TimeSpan.FromSeconds(1);
        Report(VerifyPhase.Comparing, null, 10_000, 40_000, 1);
        clock.Now += TimeSpan.FromSeconds(1);
        Report(VerifyPhase.Comparing, null, 20_000, 40_000, 2);
        Report(VerifyPhase.Repairing, "3 row(s)", 40_000, 40_000, 0);
        Report(VerifyPhase.Done, "different", 40_000, 40_000, 0);
        display.Clear();

        Assert.Equal(
            [
                "verify public.t: preparing; holding the table at its checkpoint",
                "verify public.t: restoring and replaying to the checkpoint; restoring base backup b1",
                "verify public.t: comparing rows 0% (0/~40,000 rows)",
                "verify public.t: comparing rows 50% (20,000/~40,000 rows), 10,000 rows/s, ETA 2s",
                "verify public.t: repairing; 3 row(s)",
                "verify public.t: done: different 40,000 rows",
            ],
            output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain('\r', output.ToString());
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
