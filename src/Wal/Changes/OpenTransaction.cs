namespace DataSync.Wal.Changes;

/// <summary>A top-level transaction between its first record and its end: its buffered log and bookkeeping.</summary>
internal sealed class OpenTransaction(uint xid, Lsn firstLsn, TransactionLog log, bool startedBeforeDecoding)
{
    public uint Xid { get; } = xid;

    /// <summary>The first record seen of it (or of one of its subtransactions).</summary>
    public Lsn FirstLsn { get; } = firstLsn;

    public TransactionLog Log { get; } = log;

    /// <summary>Some of its work precedes the start LSN, so what was buffered is not all of it.</summary>
    public bool StartedBeforeDecoding { get; set; } = startedBeforeDecoding;

    /// <summary>Subtransaction ids learnt from records (block 252, ASSIGNMENT), to forget at its end.</summary>
    public List<uint> Subxacts { get; } = [];

    public bool IsPrepared { get; set; }
    public string? Gid { get; set; }

    /// <summary>Moves of tracked catalog rows made by this transaction, applied if it commits.</summary>
    public List<CatalogRowMove> CatalogMoves { get; } = [];

    /// <summary>Tuples of tracked relations seen in pages this transaction logged whole (a catalog rewrite's new file).</summary>
    public List<RewrittenCatalogTuple> RewrittenTuples { get; } = [];

    /// <summary>pg_class or pg_attribute rewritten by this transaction: the new positions, used once it commits.</summary>
    public CatalogRewrite? Rewrite { get; set; }

    /// <summary>Relfilenodes this transaction gave a synced relation (by subtransaction), to forget if that does not commit.</summary>
    public List<(uint Xid, uint RelFileNode)> NewFiles { get; } = [];
}
