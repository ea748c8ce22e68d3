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
    /// <summary>Each table's descriptor as of the last change materialized: columns followed through ALTERs replace it.</summary>
    private readonly TableDescriptor[] _tables;
    private readonly ValueConverter _converter;
    private readonly RowDecoder?[] _decoders;
    private readonly bool[] _suspended;
    private readonly ToastChunkStore _toast = new();
    private readonly StreamState _state = new();

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
        _tables = [.. tables];
        _converter = converter;
        _decoders = new RowDecoder?[tables.Count];
        _suspended = new bool[tables.Count];
    }

    /// <summary>A table whose schema-change event was emitted: its rows are no longer decoded.</summary>
    public bool IsSuspended(int table) => _suspended[table];

    /// <summary>Each table's descriptor as decoding knows it now (after the ALTERs followed so far).</summary>
    public IReadOnlyList<TableDescriptor> Tables => _tables;

    public IEnumerable<TransactionChange> Materialize(TransactionLog log, uint topXid, HashSet<uint> committedXids, Lsn commitLsn)
    {
        var reader = log.Read();
        var state = _state.Reset(topXid, committedXids, commitLsn > _catalogKnownThrough);
        _toast.Clear();
        while (reader.MoveNext())
        {
            var kind = reader.Current.Kind;
            if (kind is BufferedEntryKind.RewriteInsert or BufferedEntryKind.RewriteToastChunk && state.Committed.Contains(reader.Current.Xid)
                && ReplacesRows(state, reader.Current.Table))
            {
                // A column added with a value per row: the table's rows are replaced by those the rewrite wrote, right
                // after the columns change.
                var table = reader.Current.Table;
                var lsn = reader.Current.Lsn;
                state.Replacing.Add(table);
                foreach (var altered in Flush(state, table)) yield return altered;
                if (!_suspended[table]) yield return new TruncateEvent(lsn, [_tables[table]], false, false);
            }
            // A table's followed column changes take effect before its next row (or TRUNCATE): rows before them
            // decode with the old definition, rows after with the new one.
            else if (state.Pending.Count > 0 && FlushesBefore(kind) && state.Committed.Contains(reader.Current.Xid))
            {
                int? only = reader.Current.Kind == BufferedEntryKind.Truncate ? null : reader.Current.Table;
                foreach (var altered in Flush(state, only)) yield return altered;
            }

            var change = Next(reader.Current, state);
            if (change is not null) yield return change;
        }

        if (state.Pending.Count > 0)
            foreach (var altered in Flush(state, null)) yield return altered;
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

    /// <summary>
    /// What materializing one transaction keeps as it goes. One instance serves every transaction in turn (a transaction's
    /// changes are read before the next commit is processed): a backlog of small transactions would otherwise make its
    /// four collections anew for each, most of them never used.
    /// </summary>
    private sealed class StreamState
    {
        /// <summary>Whether a schema change or an undecodable row of this transaction stops its table (see the constructor).</summary>
        public bool Suspends { get; private set; }

        public uint TopXid { get; private set; }
        public HashSet<uint> Committed { get; private set; } = [];
        public TransactionChange? Speculative { get; set; }
        public HashSet<int> Touched { get; } = [];
        public HashSet<int> Refiled { get; } = [];

        /// <summary>Tables whose columns this transaction changed, not yet in effect: the definition before and after, where.</summary>
        public Dictionary<int, PendingAlteration> Pending { get; } = [];

        /// <summary>Tables whose rows are being replaced by the rows a rewrite wrote (see <see cref="ReplacesRows"/>).</summary>
        public HashSet<int> Replacing { get; } = [];

        /// <summary>Starts the next transaction: nothing of the previous one is kept.</summary>
        public StreamState Reset(uint topXid, HashSet<uint> committed, bool suspends)
        {
            TopXid = topXid;
            Committed = committed;
            Suspends = suspends;
            Speculative = null;
            // Clear on an empty set or dictionary returns at once.
            Touched.Clear();
            Refiled.Clear();
            Pending.Clear();
            Replacing.Clear();
            return this;
        }
    }

    /// <summary>
    /// Whether the rows a rewrite writes are to replace the table's: a column is being added whose default has no value
    /// stored for the rows already there (volatile, an identity), so each row got its own, which only the rewritten rows carry.
    /// </summary>
    private bool ReplacesRows(StreamState state, int table)
    {
        if (state.Replacing.Contains(table)) return false;
        if (_suspended[table] || !state.Pending.TryGetValue(table, out var pending)) return false;
        return pending.PerRowDefaults.Any(attNum => attNum > pending.Before.Columns.Count && !pending.After.Column(attNum).IsDropped);
    }

    /// <summary>A table's column changes gathered until its next row: the definition they start from, where they lead, the last one's LSN.</summary>
    private sealed record PendingAlteration(TableDescriptor Before, TableDescriptor After, Lsn Lsn, HashSet<short> PerRowDefaults);

    private static bool FlushesBefore(BufferedEntryKind kind) =>
        kind is BufferedEntryKind.Insert or BufferedEntryKind.SpeculativeInsert or BufferedEntryKind.Update or BufferedEntryKind.Delete or BufferedEntryKind.Truncate;

    /// <summary>
    /// Puts the gathered column changes of <paramref name="only"/> (null: of every table) into effect: the table's rows
    /// from here on decode with its new definition, and a <see cref="TableAlteredEvent"/> says what changed; a change that
    /// cannot be followed stops the table instead, with a <see cref="SchemaChangedEvent"/> that says what changed.
    /// </summary>
    private List<TransactionChange> Flush(StreamState state, int? only)
    {
        var events = new List<TransactionChange>();
        foreach (var table in state.Pending.Keys.Where(t => only is null || t == only).ToList())
        {
            state.Pending.Remove(table, out var pending);
            if (_suspended[table]) continue;
            var plan = TableAlterationPlan.Between(pending!.Before, pending.After, state.Refiled.Contains(table), pending.PerRowDefaults, _converter.Types,
                state.Replacing.Contains(table));
            var reason = plan.Reason;
            RowDecoder? decoder = null;
            if (reason is null)
            {
                try
                {
                    decoder = new RowDecoder(pending.After, _converter);
                }
                catch (UnsupportedTypeException e)
                {
                    reason = $"{string.Join("; ", plan.Alterations)}, which the decoder cannot read ({e.Message})";
                }
            }

            if (reason is not null)
            {
                Suspend(table, state);
                events.Add(new SchemaChangedEvent(pending.Lsn, pending.Before, reason));
                continue;
            }

            _tables[table] = pending.After;
            _decoders[table] = decoder;
            if (plan.Alterations.Count > 0) events.Add(new TableAlteredEvent(pending.Lsn, pending.Before, pending.After, plan.Alterations));
        }

        return events;
    }

    /// <summary>A column as one of the table's pg_attribute rows now defines it, into the table's pending definition.</summary>
    private SchemaChangedEvent? DefineColumn(TransactionLog.Entry entry, StreamState state)
    {
        var table = entry.Table;
        var pending = state.Pending.GetValueOrDefault(table);
        var current = pending?.After ?? _tables[table];
        var column = CatalogColumn.Decode(entry.First);
        string? reason = null;
        ColumnDescriptor? descriptor = null;
        if (current.IsPartition || !current.HasStorage)
        {
            reason = $"column {column.AttNum} was added, dropped, renamed or retyped; only a plain table's columns are followed, not a partitioned table's";
        }
        else if (column.AttNum < 1 || column.AttNum > current.Columns.Count + 1)
        {
            reason = $"column {column.AttNum} was defined while the table has {current.Columns.Count} columns";
        }
        else
        {
            try
            {
                descriptor = Describe(column, column.AttNum <= current.Columns.Count ? current.Column(column.AttNum) : null);
            }
            catch (Exception e) when (e is DatumFormatException or VarlenaFormatException or UnsupportedTypeException or CatalogException)
            {
                reason = $"column {column.AttNum} was added or changed and its definition cannot be read ({e.Message})";
            }
        }

        if (reason is not null)
        {
            state.Pending.Remove(table);
            Suspend(table, state);
            return new SchemaChangedEvent(entry.Lsn, _tables[table], reason);
        }

        var columns = current.Columns.ToList();
        if (descriptor!.AttNum > columns.Count) columns.Add(descriptor);
        else columns[descriptor.AttNum - 1] = descriptor;
        var perRow = pending?.PerRowDefaults ?? [];
        if (!column.IsPartial && ((column.HasDefault && !column.HasMissing) || column.Identity != '\0')) perRow.Add(column.AttNum);
        else if (!column.IsPartial) perRow.Remove(column.AttNum);
        state.Pending[table] = new PendingAlteration(pending?.Before ?? _tables[table], current with { Columns = columns }, entry.Lsn, perRow);
        return null;
    }

    /// <summary>
    /// The descriptor of a column read from its pg_attribute row: its name converted from production's encoding, its
    /// added-later default (attmissingval, an array of one element) in send form. A row known only partly keeps what it
    /// does not say from <paramref name="known"/>.
    /// </summary>
    private ColumnDescriptor Describe(CatalogColumn column, ColumnDescriptor? known)
    {
        if (column.IsPartial && known is null) throw new CatalogException($"column {column.AttNum} changed, but the decoder did not know it");
        var name = new SendBuffer(64);
        _converter.Write(_converter.PlanFor(NameTypeOid), column.Name, name);
        var text = Encoding.UTF8.GetString(name.WrittenSpan);
        if (column.IsPartial)
        {
            return known! with
            {
                Name = text, TypeOid = column.TypeOid, TypeModifier = column.TypeModifier, Length = column.Length, ByValue = column.ByValue,
                Alignment = column.Alignment, IsDropped = column.IsDropped, Generated = column.Generated,
            };
        }

        byte[]? missing = null;
        if (column.HasMissing && column.MissingValue is { } stored && !column.IsDropped)
        {
            Toast.Detoaster.TryGetPayload(stored, null, out var array);
            var plan = new TypePlan(0, "attmissingval", TypePlanKind.Array, -1, 'd', SendForm.Verbatim, _converter.PlanFor(column.TypeOid));
            var sent = new SendBuffer(array.Length + 32);
            _converter.Write(plan, array, sent);
            missing = CatalogBuilder.ElementOfSingleElementArray(sent.WrittenSpan, $"column {text}");
        }

        return new ColumnDescriptor(column.AttNum, text, column.TypeOid, column.TypeModifier, column.Length, column.Alignment, column.ByValue,
            column.Storage, column.IsDropped, column.NotNull, column.HasMissing && !column.IsDropped, missing, column.Generated);
    }

    private const uint NameTypeOid = 19;

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
                    // Chunks go with the row after them: one after a followed ALTER points into the table's TOAST relation as it is after it.
                    var toastRelation = state.Pending.TryGetValue(table, out var altering) ? altering.After.ToastRelationOid : _tables[table].ToastRelationOid;
                    _toast.AddWalTuple(toastRelation, entry.First);
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
                var what = Encoding.UTF8.GetString(entry.First);
                // Column changes of the same statement that were on their way: said too, since they are part of what changed.
                if (state.Pending.Remove(table, out var pending))
                {
                    var plan = TableAlterationPlan.Between(pending.Before, pending.After, state.Refiled.Contains(table), pending.PerRowDefaults, _converter.Types);
                    what = (plan.Reason ?? string.Join("; ", plan.Alterations)) + "; then " + what;
                }

                Suspend(table, state);
                return new SchemaChangedEvent(entry.Lsn, _tables[table], what);
            case BufferedEntryKind.RewriteInsert:
                return _suspended[table] || !state.Replacing.Contains(table) ? null : Row(ChangeKind.Insert, entry, state, default, entry.First);
            case BufferedEntryKind.RewriteToastChunk:
                if (_suspended[table] || !state.Replacing.Contains(table)) return null;
                try
                {
                    _toast.AddWalTuple(BinaryPrimitives.ReadUInt32LittleEndian(entry.First), entry.First[4..]);
                }
                catch (Exception e) when (e is TupleFormatException or VarlenaFormatException)
                {
                    return Undecodable(entry, state, "TOAST chunk of the rewritten table: " + e.Message);
                }

                return null;
            case BufferedEntryKind.ToastReplaced:
                if (_suspended[table] || !state.Suspends) return null;
                var was = state.Pending.GetValueOrDefault(table);
                var relinked = (was?.After ?? _tables[table]) with
                {
                    ToastRelationOid = BinaryPrimitives.ReadUInt32LittleEndian(entry.First),
                    ToastRelFileNode = BinaryPrimitives.ReadUInt32LittleEndian(entry.First[4..]),
                };
                state.Pending[table] = new PendingAlteration(was?.Before ?? _tables[table], relinked, was?.Lsn ?? entry.Lsn, was?.PerRowDefaults ?? []);
                return null;
            case BufferedEntryKind.ColumnDefined:
                // A catalog the decoder started with already holds the columns of transactions committed before it was read.
                if (_suspended[table] || !state.Suspends) return null;
                return DefineColumn(entry, state);
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
