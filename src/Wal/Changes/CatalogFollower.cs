using System.Buffers.Binary;
using System.Text;
using DataSync.Wal.Catalog;
using DataSync.Wal.Records;
using DataSync.Wal.Tuples;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Changes;

/// <summary>
/// Which file holds which synced relation, kept true while WAL goes by: a heap record's file is looked up here
/// (<see cref="TryTarget"/>), and the catalog records that change the answer (pg_class, pg_attribute, pg_index and
/// pg_inherits changes, the pages a rewrite logs whole, RelMap updates after VACUUM FULL or CLUSTER of pg_class or
/// pg_attribute) are followed here, through a <see cref="CatalogRowTracker"/>. What they mean for a synced table
/// (a new relfilenode, a definition change, a drop) goes into the transaction that made them, to take effect at
/// its commit like the rest of its work.
/// </summary>
/// <remarks>
/// Without catalog locations (a decoder told only which files to read) nothing is followed: the files stay those
/// of the snapshot, and the commit-time safety net in <see cref="Commit"/> is the only guard.
/// </remarks>
internal sealed class CatalogFollower
{
    private readonly CatalogSnapshot _snapshot;
    private readonly IReadOnlyList<TableDescriptor> _tables;
    private readonly Dictionary<uint, int> _tableByOid = [];
    /// <summary>relfilenode → (table, is its TOAST relation), for the database of the synced tables.</summary>
    private readonly Dictionary<uint, (int Table, bool IsToast)> _files = [];
    private readonly CatalogRowTracker? _tracker;
    private readonly CompositeTypeWatch? _composites;
    private readonly SpillPolicy _spill;
    private readonly Func<uint, Lsn, OpenTransaction> _transactionOf;
    private readonly Func<uint, uint> _topOf;
    private readonly Action<TrackedClassRow, uint> _relFileNodeReplaced;
    private readonly bool _follow;

    /// <summary>
    /// The pg_attribute rows of synced tables inserted by open transactions (columns being added), whole, by where they
    /// are now: an update of one (its default stored as attmissingval) logs only the bytes that differ, and the rest
    /// must be taken from here.
    /// </summary>
    private readonly Dictionary<ItemPointer, (uint Owner, HeapTupleHeader Header, byte[] Tuple)> _insertedColumns = [];

    /// <summary>
    /// The pg_class rows of TOAST relations inserted by open transactions, whole, by where they are now: a rewrite (an
    /// ALTER that changes a column's storage) makes its new heap a TOAST relation, which becomes the synced table's when
    /// the files are swapped.
    /// </summary>
    private readonly Dictionary<ItemPointer, (uint Owner, HeapTupleHeader Header, byte[] Tuple)> _insertedToastRows = [];

    /// <summary>
    /// The files of the new heaps (and their TOAST relations) that open transactions are rewriting synced tables into
    /// (pg_class.relrewrite names the table): file → (owner, table, is TOAST, the relation's OID).
    /// </summary>
    private readonly Dictionary<uint, (uint Owner, int Table, bool IsToast, uint RelationOid)> _rewriteFiles = [];

    // pg_class: oid, relname, relfilenode, reltoastrelid, relkind, relrewrite (src/include/catalog/pg_class.h, PostgreSQL 18).
    private const int ClassNameOffset = 4;
    private const int ClassRewriteOffset = 132;
    private const int ClassRelFileNodeOffset = 88;
    private const int ClassToastRelidOffset = 112;
    private const int ClassKindOffset = 119;

    /// <param name="transactionOf">The open transaction of an xid (made when there is none), for the catalog changes it makes.</param>
    /// <param name="topOf">The top-level xid of an xid (itself when it is one or its top is not known).</param>
    /// <param name="follow">Follow columns added, dropped, renamed and retyped (<see cref="ReassemblerOptions.FollowSchemaChanges"/>).</param>
    public CatalogFollower(CatalogSnapshot snapshot, CatalogLocations? locations, SpillPolicy spill,
        Func<uint, Lsn, OpenTransaction> transactionOf, Func<uint, uint> topOf, bool follow = false)
    {
        _follow = follow;
        _snapshot = snapshot;
        _tables = snapshot.Tables;
        _spill = spill;
        _transactionOf = transactionOf;
        _topOf = topOf;
        if (_tables.Count > ushort.MaxValue) throw new ArgumentException("too many tables", nameof(snapshot));
        DatabaseOid = _tables.Count > 0 ? _tables[0].DatabaseOid : 0;
        for (var i = 0; i < _tables.Count; i++)
        {
            var table = _tables[i];
            if (table.DatabaseOid != DatabaseOid)
                throw new ArgumentException($"{table.QualifiedName} is in database {table.DatabaseOid}, the others in {DatabaseOid}: one decoder per database", nameof(snapshot));
            _tableByOid[table.RelationOid] = i;
            // A partitioned table has no file (filenode 0): its partitions' files carry its rows.
            if (table.HasStorage) _files[table.RelFileNode] = (i, false);
            if (table.ToastRelFileNode != 0) _files[table.ToastRelFileNode] = (i, true);
        }

        if (locations is not null)
        {
            _tracker = new CatalogRowTracker(_tables, locations, transactionOf);
            _composites = CompositeTypeWatch.Create(snapshot, locations);
        }

        _relFileNodeReplaced = OnRelFileNodeReplaced;
    }

    /// <summary>The database of the synced tables (0 when there are none).</summary>
    public uint DatabaseOid { get; }

    public CatalogRowTracker? Tracker => _tracker;

    /// <summary>The index of the synced table with this OID.</summary>
    public bool TryTableOf(uint relationOid, out int table) => _tableByOid.TryGetValue(relationOid, out table);

    /// <summary>The synced table whose heap or TOAST file this is, as far as the WAL read so far tells.</summary>
    public bool TryTarget(in RelFileLocator relation, out (int Table, bool IsToast) target)
    {
        target = default;
        return relation.DbOid == DatabaseOid && _files.TryGetValue(relation.RelNumber, out target);
    }

    /// <summary>True for a file of a catalog that is followed (pg_class, pg_attribute, pg_inherits, pg_index).</summary>
    public bool IsCatalog(in RelFileLocator relation) => _tracker is not null && _tracker.IsCatalog(relation);

    /// <summary>
    /// The snapshot with each table's current heap and TOAST relfilenodes, and the committed positions of the
    /// tracked catalog rows (null when none are followed), captured at <paramref name="capturedAt"/>.
    /// </summary>
    /// <param name="definitions">Each table's descriptor as decoding now knows it (its columns followed through ALTERs); null: the snapshot's.</param>
    public (CatalogSnapshot Catalog, CatalogLocations? Locations) Current(Lsn capturedAt, IReadOnlyList<TableDescriptor>? definitions = null)
    {
        definitions ??= _tables;
        if (_tracker is null) return (_snapshot with { CapturedAt = capturedAt, Tables = definitions }, null);
        var (locations, files) = _tracker.Current();
        var tables = new List<TableDescriptor>(_tables.Count);
        for (var i = 0; i < _tables.Count; i++)
        {
            var table = definitions[i];
            tables.Add(table with
            {
                RelFileNode = files.TryGetValue((i, false), out var heap) ? heap : table.RelFileNode,
                ToastRelFileNode = files.TryGetValue((i, true), out var toast) ? toast : table.ToastRelFileNode,
            });
        }

        // A synced table's own rows, also watched when its row type is used, are the tracker's to save (it follows their moves).
        if (_composites is not null)
            locations = locations with { Rows = [.. locations.Rows, .. _composites.Rows.Where(r => !_tableByOid.ContainsKey(r.RelationOid))] };
        return (_snapshot with { CapturedAt = capturedAt, Tables = tables }, locations);
    }

    /// <summary>A heap record (insert, update, delete) of a followed catalog; <see cref="IsCatalog"/> said so.</summary>
    public void OnHeap(WalRecord record, byte op, in RelFileLocator relation)
    {
        var tracker = _tracker!;
        if (relation.RelNumber == tracker.PgInheritsRelFileNode || relation.RelNumber == tracker.PgIndexRelFileNode)
        {
            OnInheritsOrIndexInsert(record, op, relation.RelNumber == tracker.PgIndexRelFileNode);
            return;
        }

        var isClass = relation.RelNumber == tracker.PgClassRelFileNode;
        switch (op)
        {
            case HeapOpcodes.Update:
            case HeapOpcodes.HotUpdate:
                var update = HeapUpdate.Parse(record);
                if (isClass) OnClassUpdate(record, update);
                else OnAttributeUpdate(record, update);
                return;
            case HeapOpcodes.Delete:
                var delete = HeapDelete.Parse(record);
                if (isClass && tracker.OnClassDeleteAt(delete, TopXid(record)) is { } gone)
                {
                    if (!gone.Row.IsToast) AppendSchemaChanged(Transaction(record), gone.Row.Table, record, "dropped");
                    // A TOAST relation dropped (by a rewrite that gave the table another): its row and file are let go at commit.
                    else if (_follow) tracker.OnClassRowDropped(record.Xid, record.Lsn, gone.At, gone.Row);
                }

                // pg_attribute rows are deleted only with their table (DROP TABLE deletes them before the
                // pg_class row), so the pg_class delete is the one to report.
                return;
            case HeapOpcodes.Insert:
                if (isClass)
                {
                    if (_follow) OnClassInsert(record);
                    return;
                }

                var insert = HeapInsert.Parse(record);
                var block0 = record.IndexOfBlockId(0);
                int? added = record.Block(block0).HasData ? tracker.OnAttributeInsert(record.BlockData(block0))
                    : record.Block(block0).HasImage ? tracker.OnAttributeInsertImage(record, block0, insert.Offnum) : null;
                if (added is { } table && _follow)
                {
                    var at = new ItemPointer(insert.BlockNumber, insert.Offnum);
                    if (record.Block(block0).HasData)
                    {
                        var walTuple = record.BlockData(block0);
                        OnColumnInserted(record, table, at, HeapTupleHeader.ReadWal(walTuple), walTuple[HeapTupleHeader.WalHeaderSize..]);
                    }
                    else
                    {
                        var pageTuple = tracker.PageTuple(record, block0, insert.Offnum);
                        OnColumnInserted(record, table, at, HeapTupleHeader.ReadPage(pageTuple), pageTuple[HeapTupleHeader.PageHeaderSize..]);
                    }
                }
                else if (added is { } changed) AppendSchemaChanged(Transaction(record), changed, record, "a column was added");
                else if (_composites is not null
                         && (record.Block(block0).HasData ? _composites.OnAttributeInsert(record.BlockData(block0))
                             : record.Block(block0).HasImage ? _composites.OfRelation(tracker.AttributeRelationInImage(record, block0, insert.Offnum)) : null) is { } grown)
                    AppendCompositeAltered(record, grown);
                return;
        }
    }

    /// <summary>
    /// An insert into pg_inherits or pg_index. pg_inherits: a partition attached to (or created in) a synced
    /// partitioned table, whose rows would land in a file the decoder does not know (detaching or dropping one
    /// changes the partition's own pg_class row, which is tracked). pg_index: a primary key or replica identity
    /// index added to a synced table changes the old key its updates and deletes carry (other indexes, CREATE
    /// INDEX among them, change nothing that is synced).
    /// </summary>
    private void OnInheritsOrIndexInsert(WalRecord record, byte op, bool isIndex)
    {
        if (op != HeapOpcodes.Insert) return;
        var inserted = HeapInsert.Parse(record);
        var block = record.IndexOfBlockId(0);
        ref readonly var reference = ref record.Block(block);
        if (!reference.HasData && !reference.HasImage) return;
        var data = reference.HasData ? record.BlockData(block) : default;
        var tracker = _tracker!;
        var table = isIndex ? tracker.OnIndexInsert(data, record, block, inserted.Offnum) : tracker.OnInheritsInsert(data, record, block, inserted.Offnum);
        if (table is { } hit)
            AppendSchemaChanged(Transaction(record), hit, record, isIndex ? "a primary key or replica identity index was added" : "a partition was attached");
    }

    /// <summary>A pg_class INSERT, when columns are followed: a TOAST relation's row is kept whole, in case a rewrite makes it a synced table's.</summary>
    private void OnClassInsert(WalRecord record)
    {
        var insert = HeapInsert.Parse(record);
        var block0 = record.IndexOfBlockId(0);
        ref readonly var block = ref record.Block(block0);
        HeapTupleHeader header;
        byte[] tuple;
        if (block.HasData)
        {
            var walTuple = record.BlockData(block0);
            if (walTuple.Length < HeapTupleHeader.WalHeaderSize) return;
            header = HeapTupleHeader.ReadWal(walTuple);
            tuple = walTuple[HeapTupleHeader.WalHeaderSize..].ToArray();
        }
        else if (block.HasImage)
        {
            var pageTuple = _tracker!.PageTuple(record, block0, insert.Offnum);
            if (pageTuple.Length <= HeapTupleHeader.PageHeaderSize) return;
            header = HeapTupleHeader.ReadPage(pageTuple);
            tuple = pageTuple[HeapTupleHeader.PageHeaderSize..].ToArray();
        }
        else
        {
            return;
        }

        var data = ClassData(header, tuple);
        if (data.Length < CatalogRowDefinition.ClassLength) return;
        var owner = TopXid(record);
        var oid = CatalogRowDefinition.RelationOid(data);
        var file = BinaryPrimitives.ReadUInt32LittleEndian(data[ClassRelFileNodeOffset..]);
        // The new heap of a rewrite (ALTER TABLE that rewrites the table): its rows are kept when a column this transaction
        // added gets a value per row from it; a rewrite for a type change alone is not worth keeping the whole table for.
        var rewriteOf = BinaryPrimitives.ReadUInt32LittleEndian(data[ClassRewriteOffset..]);
        if (_tableByOid.TryGetValue(rewriteOf, out var rewritten) && file != 0 && AddsValuePerRow(owner, rewriteOf))
            _rewriteFiles[file] = (owner, rewritten, false, oid);
        if (data[ClassKindOffset] != (byte)'t') return;
        _insertedToastRows[new ItemPointer(insert.BlockNumber, insert.Offnum)] = (owner, header, tuple);
        // A new heap's TOAST relation is named after it (pg_toast_<oid>).
        var name = data.Slice(ClassNameOffset, 64);
        var end = name.IndexOf((byte)0);
        if (end >= 0) name = name[..end];
        foreach (var heap in _rewriteFiles.Values)
        {
            if (heap.IsToast || heap.Owner != owner || !name.SequenceEqual(Encoding.ASCII.GetBytes($"pg_toast_{heap.RelationOid}"))) continue;
            _rewriteFiles[file] = (owner, heap.Table, true, oid);
            break;
        }
    }

    /// <summary>
    /// Whether transaction <paramref name="owner"/> added a column to the table whose default has no value stored for the
    /// rows already there (volatile) or that is an identity: what a rewrite fills in row by row.
    /// </summary>
    private bool AddsValuePerRow(uint owner, uint relationOid)
    {
        foreach (var inserted in _insertedColumns.Values)
        {
            if (inserted.Owner != owner) continue;
            var start = inserted.Header.Hoff - HeapTupleHeader.PageHeaderSize;
            if (start < 0 || start + 4 > inserted.Tuple.Length || BinaryPrimitives.ReadUInt32LittleEndian(inserted.Tuple.AsSpan(start)) != relationOid) continue;
            try
            {
                var column = CatalogColumn.FromTuple(inserted.Header, inserted.Tuple);
                if ((column.HasDefault && !column.HasMissing) || column.Identity != '\0') return true;
            }
            catch (Exception e) when (e is TupleFormatException or Toast.VarlenaFormatException)
            {
                // Already reported when the row was read.
            }
        }

        return false;
    }

    /// <summary>
    /// The synced table whose rewrite (by transaction <paramref name="xid"/>, when columns are followed) writes into this
    /// file, and whether it is the new heap's TOAST relation, with that relation's OID.
    /// </summary>
    public bool TryRewriteTarget(in RelFileLocator relation, uint xid, out (int Table, bool IsToast, uint RelationOid) target)
    {
        target = default;
        if (_rewriteFiles.Count == 0 || relation.DbOid != DatabaseOid || !_rewriteFiles.TryGetValue(relation.RelNumber, out var found) || found.Owner != _topOf(xid))
            return false;
        target = (found.Table, found.IsToast, found.RelationOid);
        return true;
    }

    private static ReadOnlySpan<byte> ClassData(HeapTupleHeader header, byte[] tuple)
    {
        var start = header.Hoff - HeapTupleHeader.PageHeaderSize;
        return start >= 0 && start <= tuple.Length ? tuple.AsSpan(start) : default;
    }

    /// <summary>
    /// A synced table's pg_class row names another TOAST relation (a rewrite swapped the new heap's in), when columns are
    /// followed: the new one's row, inserted by this transaction, is followed from here on, its file holds the table's
    /// TOAST chunks, and the change goes into the transaction. False when that row is not known (then it stops the table).
    /// </summary>
    private bool AdoptToast(WalRecord record, OpenTransaction transaction, TrackedClassRow row, byte[] definition)
    {
        var toast = BinaryPrimitives.ReadUInt32LittleEndian(definition.AsSpan(ClassToastRelidOffset));
        Span<byte> payload = stackalloc byte[8];
        if (toast != 0)
        {
            var owner = TopXid(record);
            var found = _insertedToastRows.FirstOrDefault(r => r.Value.Owner == owner && CatalogRowDefinition.RelationOid(ClassData(r.Value.Header, r.Value.Tuple)) == toast);
            if (found.Value.Tuple is null) return false;
            _insertedToastRows.Remove(found.Key);
            var data = ClassData(found.Value.Header, found.Value.Tuple);
            var file = BinaryPrimitives.ReadUInt32LittleEndian(data[ClassRelFileNodeOffset..]);
            var toastDefinition = CatalogRowDefinition.FromData(data, CatalogRowDefinition.ClassFields, CatalogRowDefinition.ClassLength);
            _files[file] = (row.Table, true);
            transaction.AddNewFile(record.Xid, file);
            _tracker!.OnClassRowAdopted(record.Xid, record.Lsn, found.Key, new TrackedClassRow(row.Table, true, toast, file, toastDefinition));
            BinaryPrimitives.WriteUInt32LittleEndian(payload, toast);
            BinaryPrimitives.WriteUInt32LittleEndian(payload[4..], file);
        }

        Append(transaction, record, BufferedEntryKind.ToastReplaced, row.Table, payload);
        return true;
    }

    /// <summary>An update of a TOAST relation's pg_class row this transaction inserted: kept whole at its new place.</summary>
    private bool OnInsertedToastRowUpdate(WalRecord record, in HeapUpdate update)
    {
        var old = new ItemPointer(update.OldBlockNumber, update.OldOffnum);
        if (!_insertedToastRows.TryGetValue(old, out var inserted) || inserted.Owner != TopXid(record)) return false;
        _insertedToastRows.Remove(old);
        if (WholeNewVersion(record, update, inserted.Header, inserted.Tuple) is { } whole)
            _insertedToastRows[new ItemPointer(update.NewBlockNumber, update.NewOffnum)] = (inserted.Owner, whole.Header, whole.Tuple);
        return true;
    }

    private void OnClassUpdate(WalRecord record, in HeapUpdate update)
    {
        if (_follow && OnInsertedToastRowUpdate(record, update)) return;
        if (_tracker!.OnClassUpdate(record, update, TopXid(record)) is not { } change) return;
        // The tracker made the transaction when it found the row: this is the same one.
        var transaction = Transaction(record);
        var row = change.Row;
        if (!change.RelFileNodeKnown)
        {
            if (!row.IsToast) AppendSchemaChanged(transaction, row.Table, record, "its pg_class row changed and the new relfilenode cannot be read from WAL");
        }
        else if (change.NewRelFileNode != row.RelFileNode)
        {
            // Visible to this transaction's later records at once; others cannot write the file before it commits.
            _files[change.NewRelFileNode] = (row.Table, row.IsToast);
            transaction.AddNewFile(record.Xid, change.NewRelFileNode);
            if (!row.IsToast)
            {
                Span<byte> number = stackalloc byte[4];
                BinaryPrimitives.WriteUInt32LittleEndian(number, change.NewRelFileNode);
                Append(transaction, record, BufferedEntryKind.RelfilenodeChanged, row.Table, number);
            }
        }

        if (change.Changed is null)
        {
            // The old definition is not known (locations saved before it was kept): as before, a change of the
            // row that does not come with a new file is taken for a definition change, decided at commit.
            if (!row.IsToast && change.RelFileNodeKnown && change.NewRelFileNode == row.RelFileNode)
                Append(transaction, record, BufferedEntryKind.RelationRowTouched, row.Table, default);
        }
        else
        {
            var toastFollowed = _follow && !row.IsToast && change.Changed.Contains("reltoastrelid") && change.Definition is { } definition
                                && AdoptToast(record, transaction, row, definition);
            var stopping = StoppingClassChanges(change.Changed, row.IsToast, toastFollowed);
            if (stopping.Count > 0)
            {
                var whose = row.IsToast ? "the pg_class row of its TOAST relation" : "its pg_class row";
                AppendSchemaChanged(transaction, row.Table, record, $"{whose} changed what is synced ({string.Join(", ", stopping)})");
            }
        }
    }

    /// <summary>
    /// The pg_class fields whose change stops the table: all of them, except, when columns are followed, the column
    /// count of the table itself (its columns' own rows say what was added), the TOAST relation a rewrite gave it
    /// (<paramref name="toastFollowed"/>), and the name of a TOAST relation (which nothing refers to by name).
    /// </summary>
    private IReadOnlyList<string> StoppingClassChanges(IReadOnlyList<string> changed, bool isToast, bool toastFollowed)
    {
        if (!_follow) return changed;
        return isToast
            ? changed.Where(c => c is not ("relname" or "relnamespace")).ToList()
            : changed.Where(c => c != "relnatts" && !(toastFollowed && c == "reltoastrelid")).ToList();
    }

    /// <summary>A synced table's column added: its row is followed from here on, and the column goes into the transaction.</summary>
    private void OnColumnInserted(WalRecord record, int table, ItemPointer at, HeapTupleHeader header, ReadOnlySpan<byte> tupleFromByte23)
    {
        if (ReadColumn(record, table, header, tupleFromByte23) is not { } column) return;
        var definition = CatalogRowDefinition.FromData(tupleFromByte23[(header.Hoff - HeapTupleHeader.PageHeaderSize)..],
            CatalogRowDefinition.AttributeFields, CatalogRowDefinition.AttributeLength);
        _tracker!.OnAttributeInserted(record.Xid, record.Lsn, at, table, column.AttNum, definition);
        _insertedColumns[at] = (TopXid(record), header, tupleFromByte23.ToArray());
        AppendColumnDefined(record, table, column);
    }

    /// <summary>The column a whole pg_attribute row defines; null, with the table stopped and why, when the row cannot be read.</summary>
    private CatalogColumn? ReadColumn(WalRecord record, int table, HeapTupleHeader header, ReadOnlySpan<byte> tupleFromByte23)
    {
        try
        {
            return CatalogColumn.FromTuple(header, tupleFromByte23);
        }
        catch (Exception e) when (e is TupleFormatException or Toast.VarlenaFormatException)
        {
            AppendSchemaChanged(Transaction(record), table, record, $"a column was added whose pg_attribute row cannot be read ({e.Message})");
            return null;
        }
    }

    /// <summary>
    /// The whole new version of an updated catalog row whose old version is known whole: from the page image, or the
    /// logged part with the bytes it shares with the old version at its start (prefix) and end (suffix) put back.
    /// Null when the record carries neither.
    /// </summary>
    private (HeapTupleHeader Header, byte[] Tuple)? WholeNewVersion(WalRecord record, in HeapUpdate update, HeapTupleHeader oldHeader, byte[] oldTuple)
    {
        var block0 = record.IndexOfBlockId(0);
        ref readonly var block = ref record.Block(block0);
        if (block.HasImage && !block.HasData)
        {
            var pageTuple = _tracker!.PageTuple(record, block0, update.NewOffnum);
            if (pageTuple.Length <= HeapTupleHeader.PageHeaderSize) return null;
            return (HeapTupleHeader.ReadPage(pageTuple), pageTuple[HeapTupleHeader.PageHeaderSize..].ToArray());
        }

        if (!update.NewTuple.IsPresent) return null;
        var tuple = update.NewTuple;
        var bitmapLength = tuple.Hoff - HeapTupleHeader.PageHeaderSize;
        var oldData = oldTuple.AsSpan((oldHeader.Hoff - HeapTupleHeader.PageHeaderSize)..);
        if (bitmapLength < 0 || bitmapLength > tuple.Body.Length || update.PrefixLength + update.SuffixLength > oldData.Length) return null;
        var middle = tuple.Body[bitmapLength..];
        var whole = new byte[bitmapLength + update.PrefixLength + middle.Length + update.SuffixLength];
        tuple.Body[..bitmapLength].CopyTo(whole);
        oldData[..update.PrefixLength].CopyTo(whole.AsSpan(bitmapLength));
        middle.CopyTo(whole.AsSpan(bitmapLength + update.PrefixLength));
        oldData[(oldData.Length - update.SuffixLength)..].CopyTo(whole.AsSpan(bitmapLength + update.PrefixLength + middle.Length));
        return (new HeapTupleHeader(tuple.Infomask2, tuple.Infomask, tuple.Hoff), whole);
    }

    private void OnAttributeUpdate(WalRecord record, in HeapUpdate update)
    {
        if (_composites?.OnAttributeUpdate(update) is { } altered)
        {
            AppendCompositeAltered(record, altered);
            return;
        }

        var old = new ItemPointer(update.OldBlockNumber, update.OldOffnum);
        if (_tracker!.OnAttributeUpdate(record, update, TopXid(record)) is not { } column) return;
        if (_follow && _insertedColumns.TryGetValue(old, out var inserted) && inserted.Owner == TopXid(record))
        {
            _insertedColumns.Remove(old);
            // A row this transaction inserted (a column being added) changed again, e.g. to store its default.
            var at = new ItemPointer(update.NewBlockNumber, update.NewOffnum);
            if (WholeNewVersion(record, update, inserted.Header, inserted.Tuple) is not { } whole)
            {
                AppendSchemaChanged(Transaction(record), column.Row.Table, record, $"column {column.Row.AttNum} was added and changed in a way the WAL does not show whole");
                return;
            }

            _insertedColumns[at] = (inserted.Owner, whole.Header, whole.Tuple);
            if (ReadColumn(record, column.Row.Table, whole.Header, whole.Tuple) is { } changed) AppendColumnDefined(record, column.Row.Table, changed);
            return;
        }

        if (column.Changed is { Count: 0 }) return;
        if (_follow && column.Changed is not null && column.Definition is { } definition)
        {
            AppendColumnDefined(record, column.Row.Table, CatalogColumn.FromDefinition(definition));
            return;
        }

        AppendSchemaChanged(Transaction(record), column.Row.Table, record, column.Changed is null
            ? $"column {column.Row.AttNum} changed"
            : $"column {column.Row.AttNum} changed ({string.Join(", ", column.Changed)})");
    }

    /// <summary>A MULTI_INSERT into a followed catalog: of pg_attribute, the columns it adds to synced tables.</summary>
    public void OnMultiInsert(WalRecord record, int block0, in Heap2MultiInsert multi)
    {
        var tracker = _tracker!;
        if (multi.Relation.RelNumber != tracker.PgAttributeRelFileNode) return;
        if (record.Block(block0).HasData)
        {
            var index = 0;
            foreach (var tuple in multi)
            {
                var offnum = multi.Offnum(index++);
                var hit = tracker.OnAttributeInsert(tuple);
                if (hit is { } table && _follow)
                    OnColumnInserted(record, table, new ItemPointer(multi.BlockNumber, offnum), new HeapTupleHeader(tuple.Infomask2, tuple.Infomask, tuple.Hoff), tuple.Body);
                else if (hit is { } changed)
                    AppendSchemaChanged(Transaction(record), changed, record, "a column was added");
                else if (_composites?.OnAttributeInsert(tuple) is { } grown)
                    AppendCompositeAltered(record, grown);
            }
        }
        else if (record.Block(block0).HasImage)
        {
            for (var i = 0; i < multi.TupleCount; i++)
            {
                var hit = tracker.OnAttributeInsertImage(record, block0, multi.Offnum(i));
                if (hit is { } table && _follow)
                {
                    var pageTuple = tracker.PageTuple(record, block0, multi.Offnum(i));
                    OnColumnInserted(record, table, new ItemPointer(multi.BlockNumber, multi.Offnum(i)), HeapTupleHeader.ReadPage(pageTuple),
                        pageTuple[HeapTupleHeader.PageHeaderSize..]);
                }
                else if (hit is { } changed)
                    AppendSchemaChanged(Transaction(record), changed, record, "a column was added");
                else if (_composites?.OfRelation(tracker.AttributeRelationInImage(record, block0, multi.Offnum(i))) is { } grown)
                    AppendCompositeAltered(record, grown);
            }
        }
    }

    /// <summary>XLOG_FPI in a transaction: pages logged whole, as a rewrite (VACUUM FULL, CLUSTER) writes its new file.</summary>
    public void OnWholePages(WalRecord record) => _tracker?.OnWholePages(record);

    /// <summary>A RelMap update: pg_class or pg_attribute may have been rewritten into a new file.</summary>
    public void OnRelMap(WalRecord record)
    {
        if (_tracker is null || record.Xid == 0) return;
        var transaction = Transaction(record);
        var lost = new List<(int Table, string Why)>();
        if (!_tracker.OnRelMapUpdate(RelMapUpdate.Parse(record), transaction, lost)) return;
        // pg_class or pg_attribute rewritten: the tables whose rows were found again go on; the others stop, each with why.
        foreach (var (table, why) in lost) AppendSchemaChanged(transaction, table, record, why);
    }

    /// <summary>
    /// Transaction <paramref name="xid"/> committed (with the subtransactions in <paramref name="committed"/>): the files
    /// and catalog row moves it made count from now on, those of its aborted subtransactions are forgotten. Returns the
    /// transaction, made here (outside the open ones) when the commit drops a file of a synced relation that no followed
    /// catalog change accounts for: that relation's table is then reported changed.
    /// </summary>
    public OpenTransaction? Commit(uint xid, WalRecord record, in XactFinish finish, HashSet<uint> committed, OpenTransaction? transaction)
    {
        // Safety net: a file of a synced relation that the commit drops while still mapped was
        // replaced (or dropped) without a catalog change the tracker followed.
        for (var i = 0; i < finish.RelFileLocators.Count; i++)
        {
            var dropped = finish.RelFileLocators[i];
            if (dropped.DbOid != DatabaseOid || !_files.TryGetValue(dropped.RelNumber, out var lost)) continue;
            if (transaction is not null && MovedClassRow(transaction, lost.Table, lost.IsToast, committed)) continue;
            _files.Remove(dropped.RelNumber);
            transaction ??= new OpenTransaction(xid, record.Lsn, _spill.NewLog(xid), false);
            var what = lost.IsToast ? "the file of its TOAST relation was replaced or dropped" : "its file was replaced or dropped";
            AppendSchemaChanged(transaction, lost.Table, xid, record.Lsn, what + " without a catalog change the decoder could follow");
        }

        if (transaction is null) return null;
        foreach (var (subxid, file) in transaction.NewFiles)
            if (!committed.Contains(subxid)) _files.Remove(file);
        if (_tracker?.Commit(transaction, committed, _relFileNodeReplaced) is { } lostRows)
        {
            foreach (var (table, why) in lostRows) AppendSchemaChanged(transaction, table, xid, record.Lsn, why);
        }

        return transaction;
    }

    /// <summary>The transaction ended without committing (or was found dead): the files and row moves it made are forgotten.</summary>
    public void Discard(OpenTransaction transaction)
    {
        ForgetInsertedColumns(transaction.Xid);
        _tracker?.Forget(transaction);
        foreach (var (_, file) in transaction.NewFiles) _files.Remove(file);
    }

    /// <summary>Whether a committed (sub)transaction of <paramref name="transaction"/> moved the table's (or its TOAST relation's) pg_class row.</summary>
    private static bool MovedClassRow(OpenTransaction transaction, int table, bool isToast, HashSet<uint> committed)
    {
        foreach (var move in transaction.CatalogMoves)
            if (move.Attribute is null && move.Row.Table == table && move.Row.IsToast == isToast && committed.Contains(move.Xid)) return true;
        return false;
    }

    private void OnRelFileNodeReplaced(TrackedClassRow before, uint now) => _files.Remove(before.RelFileNode);

    /// <summary>
    /// Transaction <paramref name="topXid"/> committed or aborted: the catalog rows and rewrite files it was seen to
    /// insert are let go (also when it touched nothing synced, as a CREATE TABLE with a TOAST relation does not).
    /// </summary>
    public void Ended(uint topXid) => ForgetInsertedColumns(topXid);

    private void ForgetInsertedColumns(uint topXid)
    {
        if (_insertedColumns.Count + _insertedToastRows.Count + _rewriteFiles.Count == 0) return;
        foreach (var (at, inserted) in _insertedColumns)
            if (inserted.Owner == topXid) _insertedColumns.Remove(at);
        foreach (var (at, inserted) in _insertedToastRows)
            if (inserted.Owner == topXid) _insertedToastRows.Remove(at);
        foreach (var (file, heap) in _rewriteFiles)
            if (heap.Owner == topXid) _rewriteFiles.Remove(file);
    }

    private void AppendColumnDefined(WalRecord record, int table, CatalogColumn column) =>
        _spill.Append(Transaction(record).Log, BufferedEntryKind.ColumnDefined, TransactionLog.ClearsToast, (ushort)table, record.Xid, record.Lsn, default,
            column.Encode(), default);

    private uint TopXid(WalRecord record) => _topOf(record.Xid);

    private OpenTransaction Transaction(WalRecord record) => _transactionOf(record.Xid, record.Lsn);

    private void Append(OpenTransaction transaction, WalRecord record, BufferedEntryKind kind, int table, ReadOnlySpan<byte> payload) =>
        _spill.Append(transaction.Log, kind, TransactionLog.ClearsToast, (ushort)table, record.Xid, record.Lsn, default, payload, default);

    /// <summary>Every synced table that uses the composite type stops: its values are decoded by the attributes as they were.</summary>
    private void AppendCompositeAltered(WalRecord record, (string Type, int[] Tables) altered)
    {
        var transaction = Transaction(record);
        foreach (var table in altered.Tables)
            AppendSchemaChanged(transaction, table, record, $"the composite type {altered.Type} it uses was altered (an attribute added, dropped or changed)");
    }

    private void AppendSchemaChanged(OpenTransaction transaction, int table, WalRecord record, string what) =>
        AppendSchemaChanged(transaction, table, record.Xid, record.Lsn, what);

    private void AppendSchemaChanged(OpenTransaction transaction, int table, uint xid, Lsn lsn, string what) =>
        _spill.Append(transaction.Log, BufferedEntryKind.SchemaChanged, TransactionLog.ClearsToast, (ushort)table, xid, lsn, default,
            Encoding.UTF8.GetBytes(what), default);
}
