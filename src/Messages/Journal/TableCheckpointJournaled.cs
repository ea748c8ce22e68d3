namespace DataSync.Messages.Journal;

/// <summary>
/// A table's batch committed locally up to <see cref="CheckpointLsn"/> (text form X/Y). Journaled with
/// Akka.Persistence beside the database checkpoint; on recovery the database's checkpoint wins.
/// </summary>
public sealed record TableCheckpointJournaled(string Table, string CheckpointLsn, string ArchiveFile, long Rows) : IDataSyncMessage;

/// <summary>
/// Asks a checkpoint journal to persist <see cref="Event"/>. A local command of its own, not the event itself:
/// it has no manifest, so it can never arrive over remoting, while the event type must stay readable for the journal.
/// </summary>
public sealed record JournalCheckpoint(TableCheckpointJournaled Event);

/// <summary>Asks a checkpoint journal what it recovered; answered with <see cref="JournaledCheckpoint"/>.</summary>
public sealed record JournaledCheckpointQuery
{
    public static readonly JournaledCheckpointQuery Instance = new();
}

/// <summary>The last checkpoint a journal holds, or null when it holds none.</summary>
public sealed record JournaledCheckpoint(TableCheckpointJournaled? Last);
