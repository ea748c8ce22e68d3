namespace DataSync.Wal.Changes;

/// <summary>Settings of a <see cref="TransactionReassembler"/>.</summary>
public sealed record ReassemblerOptions
{
    /// <summary>
    /// Bytes of buffered changes kept in memory over all open transactions. Past it, the largest
    /// transaction is written to its spill file (as PostgreSQL's logical_decoding_work_mem does).
    /// </summary>
    public long MemoryLimitBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Where spill files go (a folder under STATE_DIR). Null: never spill, memory is unbounded.</summary>
    public SpillStore? Spill { get; init; }

    /// <summary>
    /// Transaction ids known to be in progress at the start LSN, e.g. from the xip list of
    /// <c>pg_current_snapshot()</c> on the restore paused there. Their commits are reported as
    /// incomplete. The reassembler adds what it learns itself from WAL before the start (see
    /// <see cref="TransactionReassembler"/>).
    /// </summary>
    public IReadOnlyCollection<uint> RunningAtStart { get; init; } = [];

    /// <summary>
    /// Commits before this LSN are consumed but not emitted: their work is already in the copy the
    /// local tables started from. Lets decoding start earlier than the copy's LSN (at the first record
    /// of the oldest transaction running there) so that the transactions running at the copy's LSN
    /// come out whole instead of <see cref="CommittedTransaction.StartedBeforeDecoding"/>.
    /// Invalid (the default): every commit from the start on is emitted.
    /// </summary>
    public Lsn EmitCommitsFrom { get; init; } = Lsn.Invalid;

    /// <summary>
    /// True: columns added, dropped or renamed on a synced table and widening type changes are followed (the table's
    /// rows after the change decode with its new definition, and a <see cref="TableAlteredEvent"/> says what changed);
    /// false: every definition change is a <see cref="SchemaChangedEvent"/> that stops the table.
    /// </summary>
    public bool FollowSchemaChanges { get; init; }

    /// <summary>
    /// Finds how a transaction ends in the WAL already at hand, ahead of the decoder (<see cref="TransactionEndScout.Find"/>:
    /// the transaction's xid, the position to look from). Given, a transaction whose buffered changes pass
    /// <see cref="AheadPartBytes"/> is looked for; when it commits there and changes no definition, its rows are handed
    /// out in parts as they are read (<see cref="CommittedTransaction.AheadOfCommit"/>), each part as soon as it is
    /// complete, and its commit brings the rest. Null: every transaction comes out whole at its commit.
    /// </summary>
    public Func<uint, Lsn, TransactionEnd?>? EndAhead { get; init; }

    /// <summary>The buffered bytes of one transaction at which it is looked for ahead, and the size of its parts.</summary>
    public long AheadPartBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>
    /// How much a transaction's log grows between two asks while its end is not known: a look that reads the WAL at once
    /// is asked seldom; one that answers from a look running in the background can be asked often. Zero: every part.
    /// </summary>
    public long AheadAskBytes { get; init; }
}
