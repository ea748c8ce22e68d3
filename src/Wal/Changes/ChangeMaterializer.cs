using System.Buffers.Binary;
using System.Text;
using DataSync.Wal.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Tuples;
using DataSync.Wal.Values;

namespace DataSync.Wal.Changes;

/// <summary>
/// Turns a committed transaction's buffered entries into <see cref="TransactionChange"/>s: skips
/// what rolled-back subtransactions wrote, resolves speculative inserts, feeds TOAST chunks to the
/// chunk store just before the row that points at them, decodes tuples with each table's
/// <see cref="RowDecoder"/>, and stops a table's rows once its schema changed or one of its changes could not
/// be decoded (reported as an <see cref="UndecodableRowEvent"/>: one table's damaged data stops that table only).
/// </summary>
internal sealed class ChangeMaterializer
{
    private readonly IReadOnlyList<TableDescriptor> _tables;
    private readonly ValueConverter _converter;
    private readonly RowDecoder?[] _decoders;
    private readonly bool[] _suspended;
    private readonly ToastChunkStore _toast = new();

    private readonly Lsn _catalogKnownThrough;

    /// <param name="catalogKnownThrough">
    /// Where the catalog the decoder started with was taken: transactions that committed up to there are already in
    /// it. Their schema changes (and rows that no longer decode with it) are reported but stop nothing: the decoder
    /// starts earlier (at a restart point) and reads them again, and the tables' checkpoints are past them. A decoder
    /// that lives across segments would otherwise keep such a table stopped for good.
    /// </param>
    public ChangeMaterializer(IReadOnlyList<TableDescriptor> tables, ValueConverter converter, Lsn catalogKnownThrough = default)
    {
        _catalogKnownThrough = catalogKnownThrough;
        _tables = tables;
        _converter = converter;
        _decoders = new RowDecoder?[tables.Count];
        _suspended = new bool[tables.Count];
    }

    /// <summary>A table whose schema-change event was emitted: its rows are no longer decoded.</summary>
    public bool IsSuspended(int table) => _suspended[table];

    public IEnumerable<TransactionChange> Materialize(TransactionLog log, uint topXid, HashSet<uint> committedXids, Lsn commitLsn)
    {
        var reader = log.Read();
        var state = new StreamState(topXid, committedXids, commitLsn > _catalogKnownThrough);
        _toast.Clear();
        while (reader.MoveNext())
        {
            var change = Next(reader.Current, state);
            if (change is not null) yield return change;
        }

        _toast.Clear();
        // pg_class rows whose definition is not known (locations saved before it was kept) changed without a new file:
        // taken for a definition change, reported once the whole transaction is known.
        foreach (var table in state.Touched)
        {
            if (state.Refiled.Contains(table) || _suspended[table]) continue;
            Suspend(table, state);
            yield return new SchemaChangedEvent(commitLsn, _tables[table], "pg_class row changed");
        }
    }

    private sealed class StreamState(uint topXid, HashSet<uint> committed, bool suspends)
    {
        /// <summary>Whether a schema change or an undecodable row of this transaction stops its table (see the constructor).</summary>
        public bool Suspends { get; } = suspends;

        public uint TopXid { get; } = topXid;
        public HashSet<uint> Committed { get; } = committed;
        public TransactionChange? Speculative { get; set; }
        public HashSet<int> Touched { get; } = [];
        public HashSet<int> Refiled { get; } = [];
    }

    private TransactionChange? Next(TransactionLog.Entry entry, StreamState state)
    {
        if (!state.Committed.Contains(entry.Xid)) return null;
        var table = entry.Table;
        switch (entry.Kind)
        {
            case BufferedEntryKind.ToastChunk:
                if (_suspended[table]) return null;
                try
                {
                    _toast.AddWalTuple(_tables[table].ToastRelationOid, entry.First);
                }
                catch (Exception e) when (e is TupleFormatException or VarlenaFormatException)
                {
                    return Undecodable(entry, state, "TOAST chunk: " + e.Message);
                }

                return null;
            case BufferedEntryKind.Insert:
                return _suspended[table] ? null : Row(ChangeKind.Insert, entry, state, default, entry.First);
            case BufferedEntryKind.SpeculativeInsert:
                state.Speculative = _suspended[table] ? null : Row(ChangeKind.Insert, entry, state, default, entry.First);
                return null;
            case BufferedEntryKind.SpeculativeConfirm:
                var confirmed = state.Speculative;
                state.Speculative = null;
                return confirmed;
            case BufferedEntryKind.SpeculativeAbort:
                state.Speculative = null;
                return null;
            case BufferedEntryKind.Update:
                return _suspended[table] ? null : Row(ChangeKind.Update, entry, state, entry.First, entry.Second);
            case BufferedEntryKind.Delete:
                return _suspended[table] ? null : Row(ChangeKind.Delete, entry, state, entry.First, default);
            case BufferedEntryKind.Truncate:
                return Truncate(entry);
            case BufferedEntryKind.RelfilenodeChanged:
                state.Refiled.Add(table);
                return _suspended[table] ? null : new RelfilenodeChangedEvent(entry.Lsn, _tables[table], BinaryPrimitives.ReadUInt32LittleEndian(entry.First));
            case BufferedEntryKind.RelationRowTouched:
                state.Touched.Add(table);
                return null;
            case BufferedEntryKind.SchemaChanged:
                if (_suspended[table]) return null;
                Suspend(table, state);
                return new SchemaChangedEvent(entry.Lsn, _tables[table], Encoding.UTF8.GetString(entry.First));
            default:
                throw Error(entry, state, $"unknown buffered entry kind {entry.Kind}", null);
        }
    }

    private TruncateEvent? Truncate(TransactionLog.Entry entry)
    {
        var flags = entry.First[0];
        var tables = new List<TableDescriptor>();
        for (var i = 1; i + 2 <= entry.First.Length; i += 2)
        {
            var table = BinaryPrimitives.ReadUInt16LittleEndian(entry.First[i..]);
            if (!_suspended[table]) tables.Add(_tables[table]);
        }

        return tables.Count == 0 ? null : new TruncateEvent(entry.Lsn, tables, (flags & 0x01) != 0, (flags & 0x02) != 0);
    }

    private TransactionChange Row(ChangeKind kind, TransactionLog.Entry entry, StreamState state, ReadOnlySpan<byte> oldTuple, ReadOnlySpan<byte> newTuple)
    {
        try
        {
            var decoder = Decoder(entry);
            // Chunks of the old key's values are inlined by PostgreSQL, so only the new row needs the store.
            var oldRow = oldTuple.IsEmpty ? null : decoder.DecodeWal(oldTuple, null);
            var newRow = newTuple.IsEmpty ? null : decoder.DecodeWal(newTuple, _toast);
            if (kind == ChangeKind.Insert && newRow is { HasUnchangedToast: true })
                return Undecodable(entry, state, "an inserted row points at TOAST values whose chunks are not in its transaction");
            return new RowChange(kind, _tables[entry.Table], entry.Lsn, oldRow, newRow);
        }
        catch (Exception e) when (e is TupleFormatException or DatumFormatException or VarlenaFormatException or UnsupportedTypeException)
        {
            return Undecodable(entry, state, e.Message);
        }
        finally
        {
            // Chunks belong to the change that follows them (or to a COPY batch); forgotten after it, as PostgreSQL does.
            if ((entry.Flags & TransactionLog.ClearsToast) != 0) _toast.Clear();
        }
    }

    private void Suspend(int table, StreamState state)
    {
        if (state.Suspends) _suspended[table] = true;
    }

    private RowDecoder Decoder(TransactionLog.Entry entry) =>
        _decoders[entry.Table] ??= new RowDecoder(_tables[entry.Table], _converter);

    /// <summary>Stops decoding the entry's table from here on and says why, once; the other tables are not concerned.</summary>
    private UndecodableRowEvent Undecodable(TransactionLog.Entry entry, StreamState state, string detail)
    {
        Suspend(entry.Table, state);
        return new UndecodableRowEvent(entry.Lsn, _tables[entry.Table], state.TopXid, detail);
    }

    private ChangeDecodingException Error(TransactionLog.Entry entry, StreamState state, string detail, Exception? inner) =>
        new(_tables[entry.Table].QualifiedName, entry.Lsn, state.TopXid, detail, inner);
}
