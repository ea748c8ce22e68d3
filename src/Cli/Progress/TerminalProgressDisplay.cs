namespace DataSync.Cli.Progress;

/// <summary>
/// Progress on a terminal: one line redrawn in place (carriage return, then the terminal's erase-to-end-of-line), fitted to
/// the terminal's width at each draw so it never wraps: <c>resync public.t: copying rows [#######-------] 42% 42,000/~100,000 rows
/// 8,400 rows/s ETA 7s</c>. What does not fit goes, least useful first: the note, the bar, the rate, the time left, the
/// amount; what still does not fit is cut.
/// </summary>
public sealed class TerminalProgressDisplay(TextWriter output, Func<int> width) : IProgressDisplay
{
    private const string EraseToEndOfLine = "\u001b[K";
    private const int LongestBar = 40;
    private const int ShortestBar = 10;

    private ProgressFrame? _shown;

    public void Show(ProgressFrame frame)
    {
        _shown = frame;
        output.Write("\r" + Fit(frame, width()) + EraseToEndOfLine);
        output.Flush();
    }

    public void Message(string line)
    {
        output.Write("\r" + EraseToEndOfLine + line + "\n");
        if (_shown is { } shown) Show(shown);
        else output.Flush();
    }

    public void Finish(string line)
    {
        output.Write("\r" + EraseToEndOfLine + line + "\n");
        output.Flush();
        _shown = null;
    }

    public void Clear()
    {
        if (_shown is null) return;
        output.Write("\r" + EraseToEndOfLine);
        output.Flush();
        _shown = null;
    }

    /// <summary>The frame as one line of at most <paramref name="columns"/> − 1 characters (the last column stays free: writing it wraps on some terminals).</summary>
    public static string Fit(ProgressFrame frame, int columns)
    {
        var room = Math.Max(20, columns) - 1;
        var head = $"{frame.Subject}: {frame.Phase}";
        var percent = frame.Fraction is { } fraction ? ProgressText.Percent(fraction) : null;
        string?[] optional = [ProgressText.Amount(frame), ProgressText.Rate(frame), ProgressText.Eta(frame), frame.Note is null ? null : $"({frame.Note})"];
        // Dropped in this order when the line is too long: note, then rate, then time left, then amount.
        int[] dropOrder = [3, 1, 2, 0];
        var bar = frame.Fraction is not null;
        var dropped = 0;
        while (true)
        {
            var tail = Join([percent, .. optional]);
            var line = tail.Length == 0 ? head : head + " " + tail;
            if (bar)
            {
                var barWidth = Math.Min(LongestBar, room - line.Length - 3);
                if (barWidth >= ShortestBar) return Join([head, Bar(frame.Fraction!.Value, barWidth), tail]);
                if (optional[3] is not null)
                {
                    // The note gives way before the bar does.
                    optional[3] = null;
                    dropped++;
                    continue;
                }

                bar = false;
                continue;
            }

            if (line.Length <= room || dropped == dropOrder.Length) return line.Length <= room ? line : line[..room];
            optional[dropOrder[dropped++]] = null;
        }
    }

    /// <summary><c>[#####-----]</c> with <paramref name="inside"/> characters between the brackets.</summary>
    private static string Bar(double fraction, int inside)
    {
        var filled = (int)Math.Round(fraction * inside);
        return "[" + new string('#', filled) + new string('-', inside - filled) + "]";
    }

    private static string Join(IEnumerable<string?> parts) => string.Join(' ', parts.Where(p => !string.IsNullOrEmpty(p)));
}
