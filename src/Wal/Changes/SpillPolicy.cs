namespace DataSync.Wal.Changes;

/// <summary>
/// Decides when the buffered changes of open transactions leave memory: counts the bytes every
/// <see cref="TransactionLog"/> holds in memory and, once all of them together pass
/// <see cref="ReassemblerOptions.MemoryLimitBytes"/>, moves the largest open transaction to its spill file,
/// then the next largest, until they fit again (PostgreSQL's logical_decoding_work_mem policy, restated).
/// </summary>
/// <remarks>
/// <para>A spilled transaction stays spilled: its later entries go straight to its file, so it holds no
/// memory from then on and is counted in <see cref="SpilledTransactions"/> once. Without a
/// <see cref="SpillStore"/> nothing is ever spilled and memory is unbounded.</para>
/// <para>The open transactions are the reassembler's own table, read (never changed) here; the policy
/// is told when a log leaves it (<see cref="Release"/>), so what it counts is what the table holds.</para>
/// </remarks>
internal sealed class SpillPolicy
{
    private readonly Dictionary<uint, OpenTransaction> _open;

    /// <param name="memoryLimitBytes">Bytes of buffered changes kept in memory over all open transactions.</param>
    /// <param name="store">Where spill files go; null: never spill.</param>
    /// <param name="open">The open transactions, by top-level xid: the candidates for spilling.</param>
    public SpillPolicy(long memoryLimitBytes, SpillStore? store, Dictionary<uint, OpenTransaction> open)
    {
        MemoryLimitBytes = memoryLimitBytes;
        Store = store;
        _open = open;
    }

    public long MemoryLimitBytes { get; }

    public SpillStore? Store { get; }

    /// <summary>Bytes of buffered changes held in memory now.</summary>
    public long MemoryBytes { get; private set; }

    /// <summary>The most memory held at once so far.</summary>
    public long PeakMemoryBytes { get; private set; }

    /// <summary>Transactions moved to spill files so far (counted once each).</summary>
    public int SpilledTransactions { get; private set; }

    /// <summary>A new, empty log for transaction <paramref name="xid"/>, spilling (when it must) to <see cref="Store"/>.</summary>
    public TransactionLog NewLog(uint xid) => new(xid, Store);

    /// <summary>
    /// Appends an entry to <paramref name="log"/> (see <see cref="TransactionLog.Append(BufferedEntryKind, byte, ushort, uint, Lsn, ReadOnlySpan{byte}, ReadOnlySpan{byte}, ReadOnlySpan{byte})"/>)
    /// and counts the memory it took; past the limit, spills the largest open transactions.
    /// </summary>
    public void Append(TransactionLog log, BufferedEntryKind kind, byte flags, ushort table, uint xid, Lsn lsn,
        ReadOnlySpan<byte> firstHead, ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        var before = log.MemoryBytes;
        log.Append(kind, flags, table, xid, lsn, firstHead, first, second);
        MemoryBytes += log.MemoryBytes - before;
        if (MemoryBytes > PeakMemoryBytes) PeakMemoryBytes = MemoryBytes;
        if (MemoryBytes > MemoryLimitBytes && Store is not null) SpillLargest();
    }

    /// <summary>The log stops counting: its transaction committed (its entries are read now) or was dropped.</summary>
    public void Release(TransactionLog log) => MemoryBytes -= log.MemoryBytes;

    /// <summary>Every log was released at once (the reassembler is disposed).</summary>
    public void ReleaseAll() => MemoryBytes = 0;

    private void SpillLargest()
    {
        while (MemoryBytes > MemoryLimitBytes)
        {
            // A linear scan: it runs only when the limit is passed, and each pass frees a whole transaction's memory.
            OpenTransaction? largest = null;
            foreach (var transaction in _open.Values)
                if (largest is null || transaction.Log.MemoryBytes > largest.Log.MemoryBytes) largest = transaction;
            if (largest is null || largest.Log.MemoryBytes == 0) return;
            if (!largest.Log.HasSpilled) SpilledTransactions++;
            MemoryBytes -= largest.Log.MemoryBytes;
            largest.Log.Spill();
        }
    }
}
