using System.Runtime.InteropServices;

namespace DataSync.Wal.Changes;

/// <summary>A top-level transaction between its first record and its end: its buffered log and bookkeeping.</summary>
/// <remarks>
/// Its lists are made on first use and read as spans: most transactions have no subtransaction and touch no catalog,
/// and a backlog of small ones would otherwise make four empty lists for each.
/// </remarks>
internal sealed class OpenTransaction(uint xid, Lsn firstLsn, TransactionLog log, bool startedBeforeDecoding)
{
    public uint Xid { get; } = xid;

    /// <summary>The first record seen of it (or of one of its subtransactions).</summary>
    public Lsn FirstLsn { get; } = firstLsn;

    public TransactionLog Log { get; } = log;

    /// <summary>Some of its work precedes the start LSN, so what was buffered is not all of it.</summary>
    public bool StartedBeforeDecoding { get; set; } = startedBeforeDecoding;

    private List<uint>? _subxacts;
    private List<CatalogRowMove>? _catalogMoves;
    private List<RewrittenCatalogTuple>? _rewrittenTuples;
    private List<(uint Xid, uint RelFileNode)>? _newFiles;

    /// <summary>Subtransaction ids learnt from records (block 252, ASSIGNMENT), to forget at its end.</summary>
    public ReadOnlySpan<uint> Subxacts => CollectionsMarshal.AsSpan(_subxacts);

    public void AddSubxact(uint subxid) => (_subxacts ??= []).Add(subxid);

    /// <summary>How it ends, once found ahead of the decoder (<see cref="ReassemblerOptions.EndAhead"/>); null while not looked for or not found.</summary>
    public TransactionEnd? End { get; set; }

    /// <summary>When the end was not found: the log's <see cref="TransactionLog.AppendedBytes"/> at which it is looked for again.</summary>
    public long SeekEndAfter { get; set; }

    /// <summary>Parts of its rows handed out ahead of its commit so far.</summary>
    public int PartsHandedOut { get; set; }

    public bool IsPrepared { get; set; }
    public string? Gid { get; set; }

    /// <summary>Moves of tracked catalog rows made by this transaction, applied if it commits.</summary>
    public ReadOnlySpan<CatalogRowMove> CatalogMoves => CollectionsMarshal.AsSpan(_catalogMoves);

    public void AddCatalogMove(CatalogRowMove move) => (_catalogMoves ??= []).Add(move);

    /// <summary>Tuples of tracked relations seen in pages this transaction logged whole (a catalog rewrite's new file).</summary>
    public ReadOnlySpan<RewrittenCatalogTuple> RewrittenTuples => CollectionsMarshal.AsSpan(_rewrittenTuples);

    public void AddRewrittenTuples(IEnumerable<RewrittenCatalogTuple> tuples) => (_rewrittenTuples ??= []).AddRange(tuples);

    /// <summary>pg_class or pg_attribute rewritten by this transaction: the new positions, used once it commits.</summary>
    public CatalogRewrite? Rewrite { get; set; }

    /// <summary>Relfilenodes this transaction gave a synced relation (by subtransaction), to forget if that does not commit.</summary>
    public ReadOnlySpan<(uint Xid, uint RelFileNode)> NewFiles => CollectionsMarshal.AsSpan(_newFiles);

    public void AddNewFile(uint xid, uint relFileNode) => (_newFiles ??= []).Add((xid, relFileNode));
}
