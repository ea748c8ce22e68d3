namespace DataSync.Core.Sync;

/// <summary>How a request to bootstrap tables ended.</summary>
public enum BootstrapResult
{
    /// <summary>The tables were copied and sync from the copy's point.</summary>
    Copied,

    /// <summary>Not yet possible (WAL not archived yet, transactions open across the backup); tried again later.</summary>
    Waiting,

    /// <summary>An error (configuration, base backup, restore); tried again later, after a growing pause.</summary>
    Failed,

    /// <summary>Not tried: the pause after the last wait or failure has not passed.</summary>
    Deferred,
}

/// <summary>
/// What a bootstrap request did. <paramref name="Message"/> says why it waits or failed; <paramref name="NewCause"/>
/// is true only the first time a cause is met, so callers log each cause once; <paramref name="RetryAt"/> is when
/// the next attempt may run.
/// </summary>
public sealed record BootstrapOutcome(BootstrapResult Result, string? Message, bool NewCause, DateTimeOffset? RetryAt)
{
    public static BootstrapOutcome Copied { get; } = new(BootstrapResult.Copied, null, false, null);

    /// <summary>Tables refused at this bootstrap (production lacks them); they are marked failed with a FAILED row, the others copied.</summary>
    public IReadOnlyList<RefusedTable> Refused { get; init; } = [];

    public bool IsCopied => Result == BootstrapResult.Copied;
}

/// <summary>A table a bootstrap refused on its own (production lacks it), and why, with what to do.</summary>
public sealed record RefusedTable(DataSync.Core.Tables.TableName Table, string Cause);
