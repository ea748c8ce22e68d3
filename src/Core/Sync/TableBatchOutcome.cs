using DataSync.Core.Apply;
using DataSync.Core.Tables;
using DataSync.Wal;

namespace DataSync.Core.Sync;

/// <summary>How a table's batch ended: committed with its checkpoint, paused (nothing of the batch kept), or given up because the table left the syncing state meanwhile.</summary>
public abstract record TableBatchOutcome(TableName Table)
{
    public sealed record Committed(TableName Table, ApplyCounts Counts, Lsn Checkpoint, string ArchiveFile) : TableBatchOutcome(Table);

    public sealed record Paused(TableName Table, string ArchiveFile, Lsn Lsn, string Cause) : TableBatchOutcome(Table);

    /// <summary>A resync, clear or remove-tables came in while the batch was open; the batch was rolled back and the table is left as the command set it.</summary>
    public sealed record Withdrawn(TableName Table) : TableBatchOutcome(Table);

    /// <summary>No change reached the table in this batch; nothing was written.</summary>
    public sealed record Empty(TableName Table) : TableBatchOutcome(Table);
}
