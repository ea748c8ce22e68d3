using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Changes;

namespace DataSync.Actors.Pipeline;

// What the stream tells a table applier and what the applier answers. They never leave the process: row images
// travel by reference, and nothing here has a serializer binding, so the network guard refuses them.

/// <summary>A row change with the commit it belongs to.</summary>
internal readonly record struct CommittedChange(RowChange Change, Lsn CommitLsn);

/// <summary>
/// A command to a table applier. Each is answered with one <see cref="ApplierAck"/> of the same
/// <see cref="Sequence"/>, sent to the command's sender (the coordinator), which hands it to the table's sink.
/// </summary>
internal abstract record ApplierCommand(long Sequence);

/// <summary>Opens the applier's batch after its checkpoint.</summary>
internal sealed record BeginBatch(Lsn Checkpoint, uint Timeline, long Sequence) : ApplierCommand(Sequence);

/// <summary>The next changes of the table, in commit order.</summary>
internal sealed record ApplyChanges(IReadOnlyList<CommittedChange> Changes, long Sequence) : ApplierCommand(Sequence);

/// <summary>An upstream TRUNCATE of the table, at its place in commit order.</summary>
internal sealed record TruncateTable(Lsn CommitLsn, long Sequence) : ApplierCommand(Sequence);

/// <summary>An upstream change of the table's columns that the decoder followed, at its place in commit order.</summary>
internal sealed record AlterTable(TableAlteredEvent Altered, Lsn CommitLsn, long Sequence) : ApplierCommand(Sequence);

/// <summary>Pause the table for a reason found while decoding; the batch is dropped.</summary>
internal sealed record PauseTable(Lsn Lsn, string Cause, long Sequence) : ApplierCommand(Sequence);

/// <summary>
/// Commit the batch with the checkpoint and the log row. The stream has routed every commit up to
/// <see cref="RoutedThrough"/>: a table that had nothing in them has seen them too.
/// </summary>
internal sealed record CommitBatch(Lsn RoutedThrough, long Sequence) : ApplierCommand(Sequence);

/// <summary>
/// A table applier's answer to the command <see cref="Sequence"/>: <see cref="Applying"/> is false once the table
/// has paused in this batch; <see cref="Outcome"/> answers a <see cref="CommitBatch"/>; <see cref="Failure"/> is the
/// error the command met (the applier restarts after it, dropping its open batch).
/// </summary>
internal sealed record ApplierAck(TableName Table, long Sequence, bool Applying, TableBatchOutcome? Outcome = null, Exception? Failure = null);

/// <summary>
/// Lets a table applier start its checkpoint journal. The coordinator tells every applier when the stream first goes
/// quiet; an applier that hears nothing starts it anyway after <see cref="TableApplier.JournalAtTheLatest"/>.
/// </summary>
internal sealed record StartJournal
{
    public static StartJournal Instance { get; } = new();
}

/// <summary>
/// A table applier's checkpoint journal has recovered: its set-up (Akka.Persistence.Sql and linq2db, thousands of methods
/// JIT-compiled) is done, so the coordinator gives memory back at the next quiet moment; a release before it would leave
/// the set-up's freed native memory resident.
/// </summary>
internal sealed record JournalReady
{
    public static JournalReady Instance { get; } = new();
}
