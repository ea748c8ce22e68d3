using DataSync.Wal;
using DataSync.Wal.Changes;

namespace DataSync.Messages.Pipeline;

/// <summary>A row change with the commit it belongs to, as the router hands it to a table applier.</summary>
public readonly record struct CommittedChange(RowChange Change, Lsn CommitLsn);

/// <summary>Opens a table applier's batch after its checkpoint; answered with <see cref="BatchAck"/>.</summary>
public sealed record BeginBatch(Lsn Checkpoint, uint Timeline);

/// <summary>The next changes of the table, in commit order; answered with <see cref="BatchAck"/>.</summary>
public sealed record ApplyChanges(IReadOnlyList<CommittedChange> Changes);

/// <summary>An upstream TRUNCATE of the table, at its place in commit order; answered with <see cref="BatchAck"/>.</summary>
public sealed record TruncateTable(Lsn CommitLsn);

/// <summary>Pause the table for a reason found while decoding; the batch is dropped. Answered with <see cref="BatchAck"/>.</summary>
public sealed record PauseTable(Lsn Lsn, string Cause);

/// <summary>
/// Commit the batch with the checkpoint and the log row; answered with a <c>TableBatchOutcome</c>. The stream
/// has routed every commit up to <see cref="RoutedThrough"/>: a table that had nothing in them has seen them too.
/// </summary>
public sealed record CommitBatch(Lsn RoutedThrough);

/// <summary>The applier took the message; <see cref="Applying"/> is false once the table has paused in this batch.</summary>
public sealed record BatchAck(bool Applying);
