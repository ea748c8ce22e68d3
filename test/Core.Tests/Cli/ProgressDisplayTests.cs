using DataSync.Cli.Progress;
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

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
