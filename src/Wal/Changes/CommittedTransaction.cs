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

    public override string ToString() => $"xid {Xid} committed at {CommitLsn} ({CommitTime:O})";
}
