using System.Globalization;

namespace DataSync.Cli.Progress;

/// <summary>
/// How progress reads in words, the same on a terminal, in plain lines and in <c>status --verbose</c>: counts with
/// thousands separators, sizes in MiB/GiB, rates per second, times left as <c>1h02m</c> / <c>3m05s</c> / <c>7s</c>.
/// </summary>
public static class ProgressText
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>The whole frame on one line: <c>resync public.t: copying rows 42% (42,000/~100,000 rows), 8,400 rows/s, ETA 7s</c>.</summary>
    public static string Line(ProgressFrame frame)
    {
        var details = new List<string>();
        if (Amount(frame) is { } amount) details.Add(frame.Fraction is { } fraction ? $"{Percent(fraction)} ({amount})" : amount);
        if (Rate(frame) is { } rate) details.Add(rate);
        if (Eta(frame) is { } eta) details.Add(eta);
        var line = $"{frame.Subject}: {frame.Phase}";
        if (details.Count > 0) line += " " + string.Join(", ", details);
        return frame.Note is null ? line : $"{line}; {frame.Note}";
    }

    /// <summary><c>42%</c>: whole percents, and 100% only when all is done.</summary>
    public static string Percent(double fraction) =>
        string.Create(Invariant, $"{(fraction >= 1 ? 100 : Math.Min(99, (int)(fraction * 100)))}%");

    /// <summary>How much of how much: <c>42,000/~100,000 rows</c>, <c>12.5 MiB/40.0 MiB</c>, <c>3.0 MiB/16.0 MiB of WAL</c>; null for a frame that counts nothing.</summary>
    public static string? Amount(ProgressFrame frame) => frame.Unit switch
    {
        ProgressUnit.None => null,
        ProgressUnit.Rows => frame.Total is { } total ? $"{Count(frame.Done)}/~{Count(total)} rows" : $"{Count(frame.Done)} rows",
        _ => (frame.Total is { } total ? $"{Size(frame.Done, total)}/{Size(total)}" : Size(frame.Done)) + (frame.Unit == ProgressUnit.WalBytes ? " of WAL" : ""),
    };

    /// <summary><c>8,400 rows/s</c> or <c>12.5 MiB/s</c>; null when there is no rate yet.</summary>
    public static string? Rate(ProgressFrame frame) => frame.PerSecond is not { } rate || frame.Unit == ProgressUnit.None
        ? null
        : frame.Unit == ProgressUnit.Rows ? $"{Count((long)rate)} rows/s" : $"{Size((long)rate)}/s";

    /// <summary><c>ETA 3m05s</c>; null when the time left cannot be told.</summary>
    public static string? Eta(ProgressFrame frame) => frame.Eta is { } eta && frame.Fraction is < 1 ? $"ETA {Duration(eta)}" : null;

    public static string Count(long value) => value.ToString("N0", Invariant);

    /// <summary><c>512 B</c>, <c>12.5 KiB</c>, <c>40.0 MiB</c>, <c>1.25 GiB</c>.</summary>
    public static string Size(long bytes) => Size(bytes, bytes);

    /// <summary>Duration as <c>7s</c>, <c>3m05s</c> or <c>1h02m</c>.</summary>
    public static string Duration(TimeSpan time)
    {
        var seconds = (long)Math.Ceiling(Math.Max(0, time.TotalSeconds));
        if (seconds < 60) return string.Create(Invariant, $"{seconds}s");
        if (seconds < 3600) return string.Create(Invariant, $"{seconds / 60}m{seconds % 60:00}s");
        return string.Create(Invariant, $"{seconds / 3600}h{seconds / 60 % 60:00}m");
    }

    /// <summary><paramref name="bytes"/> in the unit that suits <paramref name="scale"/>, so a pair such as <c>0.5 MiB/40.0 MiB</c> shares one unit.</summary>
    private static string Size(long bytes, long scale)
    {
        if (scale < 1024) return string.Create(Invariant, $"{bytes} B");
        if (scale < 1L << 20) return string.Create(Invariant, $"{bytes / 1024.0:F1} KiB");
        if (scale < 1L << 30) return string.Create(Invariant, $"{bytes / (double)(1L << 20):F1} MiB");
        return string.Create(Invariant, $"{bytes / (double)(1L << 30):F2} GiB");
    }
}
