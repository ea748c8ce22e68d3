namespace DataSync.Messages.Control;

/// <summary>
/// The daemon's answer to a <see cref="BootstrapProgressRequest"/>: each asked table's standing, and the running
/// bootstrap's progress when that bootstrap copies one of them (null otherwise: none runs, or it copies other tables).
/// </summary>
public sealed record BootstrapProgressReply(IReadOnlyList<BootstrapTableStanding> Tables, BootstrapProgressStatus? Running) : IDataSyncMessage;

/// <summary>
/// Where one table stands for <c>resync --wait</c>: its state and detail (as <c>status</c> has them); how the last bootstrap
/// attempt that did not copy it ended (<paramref name="LastAttemptFailed"/>: failed, or waits; why; when), null when none
/// did since its last copy; and, once it syncs, its newest BOOTSTRAP row's rows and duration.
/// </summary>
public sealed record BootstrapTableStanding(
    string Table,
    string State,
    string? Detail,
    bool? LastAttemptFailed,
    string? LastAttemptMessage,
    DateTimeOffset? LastAttemptAt,
    long? RowsCopied,
    long? CopyMilliseconds);
