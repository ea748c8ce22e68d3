using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Changes;

namespace DataSync.Core.Sync;

/// <summary>
/// Where the router sends one table's share of the decoded stream: a <see cref="TableBatch"/> in the same
/// process, or a table applier actor behind a mailbox. Calls come in commit order from one caller.
/// </summary>
public interface ITableSink
{
    TableName Table { get; }

    /// <summary>True when a change committed at <paramref name="commitLsn"/> is still to be applied (past the checkpoint, not paused).</summary>
    bool Wants(Lsn commitLsn);

    /// <summary>Opens a batch that starts after <paramref name="checkpoint"/>; its segment files are named on <paramref name="timeline"/>.</summary>
    Task BeginAsync(Lsn checkpoint, uint timeline, CancellationToken cancellationToken);

    /// <summary>Takes a row change of the transaction committed at <paramref name="commitLsn"/>; false once the table has paused.</summary>
    ValueTask<bool> AddAsync(RowChange change, Lsn commitLsn, CancellationToken cancellationToken);

    Task<bool> TruncateAsync(Lsn commitLsn, CancellationToken cancellationToken);

    /// <summary>
    /// Takes an upstream change of the table's columns that the decoder followed, at its place in the transaction committed
    /// at <paramref name="commitLsn"/>: the changes before it are applied first, the local table is altered the same way,
    /// and the changes after it follow, all in the batch's one local transaction. False once the table has paused.
    /// </summary>
    Task<bool> AlterAsync(TableAlteredEvent altered, Lsn commitLsn, CancellationToken cancellationToken);

    Task PauseAsync(Lsn lsn, string cause, CancellationToken cancellationToken);

    /// <summary>
    /// Commits the batch. Every commit up to <paramref name="routedThrough"/> has been routed: a table without
    /// changes in them moves its checkpoint there too, so a later run that reads them again (it resumes at the
    /// oldest transaction still open) does not take them for transactions it never saw.
    /// </summary>
    Task<TableBatchOutcome> CommitAsync(Lsn routedThrough, CancellationToken cancellationToken);
}
