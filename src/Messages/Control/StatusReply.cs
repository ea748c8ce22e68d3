namespace DataSync.Messages.Control;

/// <summary>What a running daemon reports for <c>datasync status</c>.</summary>
public sealed record StatusReply(
    int ProcessId,
    DateTimeOffset StartTime,
    int SyncFrequencySeconds,
    long RecordsSynced,
    long Errors,
    DateTimeOffset? LastSuccessfulSync,
    IReadOnlyList<TableStatus> Tables) : IDataSyncMessage;

/// <summary>One synced table in <c>status --verbose</c>.</summary>
public sealed record TableStatus(string Table, string State, string? CheckpointLsn, string? LastArchiveFile, TimeSpan? Lag) : IDataSyncMessage;
