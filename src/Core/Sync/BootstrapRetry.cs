namespace DataSync.Core.Sync;

/// <summary>
/// When a bootstrap that waited or failed may run again, and whether its cause is new. Each attempt can
/// restore a whole base backup, so attempts are spaced by a growing pause with jitter (like the backoff
/// supervisors around the other parts), and a cause seen before is counted, not logged again.
/// </summary>
public sealed class BootstrapRetry(TimeSpan firstPause, TimeSpan longestPause, double jitter = 0.2)
{
    private string? _causeKey;

    public static BootstrapRetry Default() => new(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2));

    /// <summary>The cause of the current run of waits or failures (as first worded), or null when the last attempt succeeded.</summary>
    public string? Cause { get; private set; }

    /// <summary>When the current cause was first met.</summary>
    public DateTimeOffset Since { get; private set; }

    /// <summary>Attempts that met the current cause.</summary>
    public int Attempts { get; private set; }

    /// <summary>No attempt before this time.</summary>
    public DateTimeOffset NotBefore { get; private set; } = DateTimeOffset.MinValue;

    public bool MayAttempt(DateTimeOffset now) => now >= NotBefore;

    /// <summary>True while attempts repeat a known cause: their routine progress lines are left out of the log.</summary>
    public bool Repeating => Cause is not null;

    /// <summary>Records a wait or a failure; returns true when its cause differs from the previous attempt's (numbers aside).</summary>
    public bool Record(string cause, DateTimeOffset now)
    {
        var key = FailureLog.CauseKey(cause);
        var isNew = key != _causeKey;
        if (isNew)
        {
            _causeKey = key;
            Cause = cause;
            Since = now;
            Attempts = 0;
        }

        Attempts++;
        var pause = firstPause.TotalMilliseconds * Math.Pow(2, Math.Min(Attempts - 1, 20));
        pause = Math.Min(pause, longestPause.TotalMilliseconds) * (1 + jitter * (2 * Random.Shared.NextDouble() - 1));
        NotBefore = now + TimeSpan.FromMilliseconds(pause);
        return isNew;
    }

    public void Succeeded()
    {
        _causeKey = null;
        Cause = null;
        Attempts = 0;
        NotBefore = DateTimeOffset.MinValue;
    }
}
