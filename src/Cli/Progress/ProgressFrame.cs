namespace DataSync.Cli.Progress;

/// <summary>
/// One moment of a long task, as a display shows it: what it is about (<paramref name="Subject"/>, e.g. <c>resync public.orders</c>),
/// the phase it is in, how much is done of how much (<paramref name="Total"/> null when unknown), in which unit, the rate and
/// the time left when they can be told, and a note (what the phase waits for).
/// </summary>
public sealed record ProgressFrame(string Subject, string Phase, long Done, long? Total, ProgressUnit Unit, double? PerSecond, TimeSpan? Eta, string? Note = null)
{
    /// <summary>Below this much time in a phase, a rate says more about start-up than about the work.</summary>
    private static readonly TimeSpan ShortestMeasured = TimeSpan.FromMilliseconds(500);

    /// <summary>How much is done, from 0 to 1; null when the total is unknown.</summary>
    public double? Fraction => Total switch
    {
        null => null,
        <= 0 => 1,
        { } total => Math.Clamp((double)Done / total, 0, 1),
    };

    /// <summary>
    /// A frame whose rate is <paramref name="done"/> over <paramref name="elapsed"/> (the phase's time so far), and whose
    /// time left is what remains of <paramref name="total"/> at that rate.
    /// </summary>
    public static ProgressFrame Measured(string subject, string phase, long done, long? total, ProgressUnit unit, TimeSpan elapsed, string? note = null)
    {
        double? rate = done > 0 && elapsed >= ShortestMeasured ? done / elapsed.TotalSeconds : null;
        TimeSpan? eta = rate is { } perSecond && total is { } all ? TimeSpan.FromSeconds(Math.Max(0, all - done) / perSecond) : null;
        return new ProgressFrame(subject, phase, done, total, unit, rate, eta, note);
    }
}
