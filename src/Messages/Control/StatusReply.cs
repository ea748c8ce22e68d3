namespace DataSync.Messages.Control;

/// <summary>
/// What a running daemon reports for <c>datasync status</c>. A daemon that cannot reach its local database still
/// answers, with what it knows itself and <paramref name="LocalDatabaseProblem"/> saying why the rest is unknown.
/// <paramref name="StreamLines"/> are the <c>--verbose</c> lines about the stream's restart point, the oldest open
/// production transaction and the spool, as the daemon words them; <paramref name="Stream"/> the same facts as values
/// (for <c>status --json</c>), null before the first bootstrap made a stream. <paramref name="BootstrapProgress"/> is the
/// bootstrap running now (null when none runs, and always from the database alone).
/// </summary>
public sealed record StatusReply(
    int ProcessId,
    DateTimeOffset StartTime,
    int SyncFrequencySeconds,
    long RecordsSynced,
    long Errors,
    DateTimeOffset? LastSuccessfulSync,
    IReadOnlyList<TableStatus> Tables,
    string? LocalDatabaseProblem = null,
    IReadOnlyList<string>? StreamLines = null,
    StreamStatus? Stream = null,
    BootstrapProgressStatus? BootstrapProgress = null) : IDataSyncMessage;

/// <summary>
/// One synced table in <c>status --verbose</c>. <paramref name="Lag"/>: how far behind production it is (zero when it has
/// seen the newest commit to a synced table decoded from the archive, else the time between that commit and the one at
/// its checkpoint); null when not known. <paramref name="Detail"/> says why it is paused or why its bootstrap waits or fails.
/// </summary>
public sealed record TableStatus(string Table, string State, string? CheckpointLsn, string? LastArchiveFile, TimeSpan? Lag, string? Detail = null) : IDataSyncMessage
{
    /// <summary>True when <see cref="Detail"/> is about a bootstrap that waits or fails (the table is new or being resynced).</summary>
    public bool BootstrapHeld => State is "new" or "resync-requested" && Detail is not null;
}
