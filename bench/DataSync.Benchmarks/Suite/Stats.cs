namespace DataSync.Benchmarks.Suite;

/// <summary>Medians: they shrug off the runs another agent's work slowed down on a shared machine.</summary>
internal static class Stats
{
    public static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public static string Seconds(TimeSpan time) => Format.Invariant($"{time.TotalSeconds:F2} s");
}

internal static class Format
{
    public static string Invariant(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
