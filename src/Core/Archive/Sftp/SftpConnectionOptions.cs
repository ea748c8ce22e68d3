namespace DataSync.Core.Archive.Sftp;

/// <summary>Timeouts and the reconnect backoff of an sftp connection; the defaults suit a daemon, tests shorten them.</summary>
public sealed record SftpConnectionOptions
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one request may wait for the server before the connection counts as lost.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Keep-alives make a silently dead connection show up as an error instead of a hang.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Tries per operation (connecting included) before the failure is passed on; the daemon's supervisor tries again later.</summary>
    public int MaxAttempts { get; init; } = 6;

    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The wait before try number <paramref name="attempt"/> + 1: doubling from <see cref="FirstRetryDelay"/>, capped, with ±20 % jitter.</summary>
    public TimeSpan RetryDelay(int attempt)
    {
        var doubled = FirstRetryDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var capped = Math.Min(doubled, MaxRetryDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }
}
