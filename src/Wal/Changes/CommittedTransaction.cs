namespace DataSync.Wal.Changes;

/// <summary>
/// A transaction that committed (COMMIT or COMMIT PREPARED) and touched synced tables, emitted in
/// commit order. Its <see cref="Changes"/> stream from memory or from the spill file and are
/// decoded as they are read.
/// </summary>
/// <remarks>
/// <see cref="Changes"/> can be enumerated once, and only until the reassembler is given the next
/// record: then the buffer behind it is released.
/// </remarks>
public sealed class CommittedTransaction
{
    private readonly IEnumerable<TransactionChange> _changes;
    private bool _enumerated;

    internal CommittedTransaction(uint xid, Lsn firstLsn, Lsn commitLsn, Lsn endLsn, DateTimeOffset commitTime, string? gid,
        bool startedBeforeDecoding, long bufferedEntries, long spilledBytes, IEnumerable<TransactionChange> changes)
    {
        Xid = xid;
        FirstLsn = firstLsn;
        CommitLsn = commitLsn;
        EndLsn = endLsn;
        CommitTime = commitTime;
        Gid = gid;
        StartedBeforeDecoding = startedBeforeDecoding;
        BufferedEntries = bufferedEntries;
        SpilledBytes = spilledBytes;
        _changes = changes;
    }

    public uint Xid { get; }

    /// <summary>
    /// A part of the transaction's rows, handed out before the decoder reached its commit, which was found ahead in the
    /// WAL at hand (<see cref="ReassemblerOptions.EndAhead"/>): <see cref="CommitLsn"/>, <see cref="EndLsn"/> and
    /// <see cref="CommitTime"/> are the commit's. More parts may follow; the commit itself comes as an ordinary
    /// <see cref="CommittedTransaction"/> with the rows after the last part (maybe none).
    /// </summary>
    /// <remarks>
    /// Its rows may be applied at once, in the same local transaction as the transactions that commit before it, as
    /// long as that local transaction commits no earlier than its commit: production's row locks kept every transaction
    /// that committed meanwhile off the rows it had changed (a row it changed later was changed by the others, if at
    /// all, before their commit, which comes before it in the WAL).
    /// </remarks>
    public bool AheadOfCommit { get; init; }

    /// <summary>Its first record seen (Invalid when none of its records touched a synced table).</summary>
    public Lsn FirstLsn { get; }

    /// <summary>Where its COMMIT (or COMMIT PREPARED) record starts.</summary>
    public Lsn CommitLsn { get; }

    /// <summary>Where the record after the commit starts: resume here once it is applied.</summary>
    public Lsn EndLsn { get; }

    public DateTimeOffset CommitTime { get; }

    /// <summary>The global id of a prepared transaction; null for an ordinary one.</summary>
    public string? Gid { get; }

    /// <summary>
    /// It was already running at the start LSN: its earlier work is not in the WAL read, so its
    /// changes are withheld (<see cref="Changes"/> is empty). The caller decides (e.g. resync).
    /// </summary>
    public bool StartedBeforeDecoding { get; }

    /// <summary>Entries buffered (row changes, TOAST chunks, events), including those of rolled-back subtransactions.</summary>
    public long BufferedEntries { get; }

    /// <summary>Bytes of it that went to a spill file.</summary>
    public long SpilledBytes { get; }

    /// <summary>The row changes and catalog events in WAL order; single use (see remarks).</summary>
    public IEnumerable<TransactionChange> Changes
    {
        get
        {
            if (_enumerated) throw new InvalidOperationException($"the changes of transaction {Xid} can be read once");
            _enumerated = true;
            return _changes;
        }
    }

    public override string ToString() => AheadOfCommit
        ? $"xid {Xid}, a part ahead of its commit at {CommitLsn}"
        : $"xid {Xid} committed at {CommitLsn} ({CommitTime:O})";
}
