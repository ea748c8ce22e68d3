using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Records;
using DataSync.Wal.Tuples;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Changes;

/// <summary>
/// Follows the pg_class and pg_attribute rows of the synced tables through WAL, by position: an
/// UPDATE or DELETE of pg_class at a tracked ctid is a change of that table's (or its TOAST
/// relation's) row, and the new version's relfilenode and <see cref="CatalogRowDefinition"/> are read
/// from the record's data or from the page image it carries and compared with the old version's.
/// pg_attribute rows are recognised by tracked ctid (updates) or by their attrelid (inserts). Row
/// moves count only once their transaction commits. When pg_class or pg_attribute itself is rewritten
/// (VACUUM FULL, CLUSTER), the tracked rows are found again in the new file's pages, which the rewrite
/// logs whole.
/// </summary>
/// <remarks>
/// Why by position: catalogs are not logically logged, so an update of a pg_class row usually
/// leaves out the leading bytes it shares with the old version (the OID among them), and a record
/// with a full-page image carries no tuple data at all (src/backend/access/heap/heapam.c,
/// log_heap_update). Offsets of the fixed pg_class and pg_attribute columns are PostgreSQL 18's
/// (src/include/catalog/pg_class.h, pg_attribute.h).
/// </remarks>
internal sealed class CatalogRowTracker
{
    private const int ClassOidOffset = 0;
    private const int ClassRelFileNodeOffset = 88;
    private const int AttributeRelidOffset = 0;
    private const int InheritsParentOffset = 4; // pg_inherits: inhrelid oid, inhparent oid, ...
    // pg_index: indexrelid oid, indrelid oid, indnatts and indnkeyatts int2, then one-byte flags (pg_index.h).
    private const int IndexRelidOffset = 4;
    private const int IndexIsPrimaryOffset = 14;
    private const int IndexIsReplicaIdentityOffset = 22;
    private const uint PgClassOid = 1259;
    private const uint PgAttributeOid = 1249;

    private readonly IReadOnlyList<TableDescriptor> _tables;
    private readonly Dictionary<uint, int> _tableByOid = [];
    private readonly Dictionary<ItemPointer, TrackedClassRow> _classRows = [];
    private readonly Dictionary<ItemPointer, (TrackedClassRow Row, uint Owner)> _pendingClassRows = [];
    private readonly Dictionary<ItemPointer, TrackedAttributeRow> _attributeRows = [];
    private readonly Dictionary<ItemPointer, (TrackedAttributeRow Row, uint Owner)> _pendingAttributeRows = [];
    private readonly HashSet<uint> _trackedOids = [];
    private readonly Func<uint, Lsn, OpenTransaction> _transactionOf;
    private byte[]? _page;

    /// <param name="transactionOf">The open transaction of an xid (made when there is none): the one a tracked row's change belongs to.</param>
    public CatalogRowTracker(IReadOnlyList<TableDescriptor> tables, CatalogLocations locations, Func<uint, Lsn, OpenTransaction> transactionOf)
    {
        _tables = tables;
        _transactionOf = transactionOf;
        DatabaseOid = locations.DatabaseOid;
        PgClassRelFileNode = locations.PgClassRelFileNode;
        PgAttributeRelFileNode = locations.PgAttributeRelFileNode;
        PgInheritsRelFileNode = locations.PgInheritsRelFileNode;
        PgIndexRelFileNode = locations.PgIndexRelFileNode;
        for (var i = 0; i < tables.Count; i++) _tableByOid[tables[i].RelationOid] = i;
        var toastOf = new Dictionary<uint, int>();
        for (var i = 0; i < tables.Count; i++)
            if (tables[i].ToastRelationOid != 0) toastOf[tables[i].ToastRelationOid] = i;

        foreach (var row in locations.Rows)
        {
            var at = new ItemPointer(row.Block, row.Offnum);
            if (row.IsClassRow)
            {
                if (_tableByOid.TryGetValue(row.RelationOid, out var table))
                    _classRows[at] = new TrackedClassRow(table, false, row.RelationOid, tables[table].RelFileNode, row.Definition);
                else if (toastOf.TryGetValue(row.RelationOid, out table))
                    _classRows[at] = new TrackedClassRow(table, true, row.RelationOid, tables[table].ToastRelFileNode, row.Definition);
            }
            else if (_tableByOid.TryGetValue(row.RelationOid, out var table))
            {
                _attributeRows[at] = new TrackedAttributeRow(table, row.AttNum, row.Definition);
            }
        }

        foreach (var oid in _tableByOid.Keys) _trackedOids.Add(oid);
        foreach (var oid in toastOf.Keys) _trackedOids.Add(oid);
    }

    public uint DatabaseOid { get; }
    public uint PgClassRelFileNode { get; private set; }
    public uint PgAttributeRelFileNode { get; private set; }
    public uint PgInheritsRelFileNode { get; }
    public uint PgIndexRelFileNode { get; }

    /// <summary>New relfilenodes read from a full-page image, and from tuple data (for tests and diagnostics).</summary>
    public int ReadFromImages { get; private set; }
    public int ReadFromData { get; private set; }

    public bool IsCatalog(in RelFileLocator relation) =>
        relation.DbOid == DatabaseOid && (relation.RelNumber == PgClassRelFileNode || relation.RelNumber == PgAttributeRelFileNode
                                          || (PgInheritsRelFileNode != 0 && relation.RelNumber == PgInheritsRelFileNode)
                                          || (PgIndexRelFileNode != 0 && relation.RelNumber == PgIndexRelFileNode));

    /// <summary>
    /// What an UPDATE of a tracked pg_class row did: the row before, the file the new version names (when it could be
    /// read) and the fields of its <see cref="CatalogRowDefinition"/> that changed (null when that cannot be told).
    /// </summary>
    public readonly record struct ClassUpdate(TrackedClassRow Row, uint NewRelFileNode, bool RelFileNodeKnown, IReadOnlyList<string>? Changed,
        byte[]? Definition = null);

    /// <summary>Looks at an UPDATE of pg_class; null when it is not a tracked row's.</summary>
    public ClassUpdate? OnClassUpdate(WalRecord record, in HeapUpdate update, uint topXid)
    {
        var old = new ItemPointer(update.OldBlockNumber, update.OldOffnum);
        TrackedClassRow row;
        if (_pendingClassRows.TryGetValue(old, out var pending) && pending.Owner == topXid) row = pending.Row;
        else if (!_classRows.TryGetValue(old, out row)) return null;

        var transaction = _transactionOf(record.Xid, record.Lsn);

        var version = ReadNewVersion(record, update, row.RelationOid);
        var known = TryReadNewRelFileNode(version, row, out var relFileNode);
        var definition = NewDefinition(version, row.Definition, CatalogRowDefinition.ClassFields, CatalogRowDefinition.ClassLength);
        var changed = definition is null ? null : CatalogRowDefinition.Differences(row.Definition!, definition, CatalogRowDefinition.ClassFields);
        var moved = row with { RelFileNode = known ? relFileNode : row.RelFileNode, Definition = definition ?? row.Definition };
        var at = new ItemPointer(update.NewBlockNumber, update.NewOffnum);
        _pendingClassRows[at] = (moved, transaction.Xid);
        transaction.AddCatalogMove(new CatalogRowMove(record.Xid, old, at, moved, PgClassRelFileNode));
        return new ClassUpdate(row, relFileNode, known, changed, definition);
    }

    /// <summary>
    /// Looks at an UPDATE of pg_attribute: null when it is not a tracked row's; otherwise the row before and the
    /// fields of its definition that changed (null when that cannot be told). The row is followed to its new place.
    /// </summary>
    public (TrackedAttributeRow Row, IReadOnlyList<string>? Changed, byte[]? Definition)? OnAttributeUpdate(WalRecord record, in HeapUpdate update, uint topXid)
    {
        var old = new ItemPointer(update.OldBlockNumber, update.OldOffnum);
        TrackedAttributeRow row;
        if (_pendingAttributeRows.TryGetValue(old, out var pending) && pending.Owner == topXid) row = pending.Row;
        else if (!_attributeRows.TryGetValue(old, out row)) return null;

        var transaction = _transactionOf(record.Xid, record.Lsn);
        var version = ReadNewVersion(record, update, _tables[row.Table].RelationOid);
        var definition = NewDefinition(version, row.Definition, CatalogRowDefinition.AttributeFields, CatalogRowDefinition.AttributeLength);
        var changed = definition is null ? null : CatalogRowDefinition.Differences(row.Definition!, definition, CatalogRowDefinition.AttributeFields);
        var moved = row with { Definition = definition ?? row.Definition };
        var at = new ItemPointer(update.NewBlockNumber, update.NewOffnum);
        _pendingAttributeRows[at] = (moved, transaction.Xid);
        transaction.AddCatalogMove(new CatalogRowMove(record.Xid, old, at, default, PgAttributeRelFileNode, moved));
        return (row, changed, definition);
    }

    /// <summary>
    /// A pg_attribute row of a synced table inserted by <paramref name="xid"/> (a column added) at <paramref name="at"/>:
    /// followed from here on like the rows read at the start, for the transaction at once and for everyone at its commit.
    /// </summary>
    public void OnAttributeInserted(uint xid, Lsn lsn, ItemPointer at, int table, short attNum, byte[]? definition)
    {
        var transaction = _transactionOf(xid, lsn);
        var row = new TrackedAttributeRow(table, attNum, definition);
        _pendingAttributeRows[at] = (row, transaction.Xid);
        // No old position: the commit only adds the new one.
        transaction.AddCatalogMove(new CatalogRowMove(xid, NoPosition, at, default, PgAttributeRelFileNode, row));
    }

    /// <summary>
    /// A pg_class row inserted by <paramref name="xid"/> at <paramref name="at"/> that became a synced table's (the TOAST
    /// relation a rewrite gave it): followed from here on, for the transaction at once and for everyone at its commit.
    /// </summary>
    public void OnClassRowAdopted(uint xid, Lsn lsn, ItemPointer at, TrackedClassRow row)
    {
        var transaction = _transactionOf(xid, lsn);
        _pendingClassRows[at] = (row, transaction.Xid);
        transaction.AddCatalogMove(new CatalogRowMove(xid, NoPosition, at, row, PgClassRelFileNode));
    }

    /// <summary>
    /// A tracked pg_class row deleted by <paramref name="xid"/> (the TOAST relation a rewrite replaced): no longer
    /// followed once the transaction commits, and its file no longer the table's.
    /// </summary>
    public void OnClassRowDropped(uint xid, Lsn lsn, ItemPointer at, TrackedClassRow row)
    {
        var transaction = _transactionOf(xid, lsn);
        transaction.AddCatalogMove(new CatalogRowMove(xid, at, NoPosition, row with { RelFileNode = 0 }, PgClassRelFileNode));
    }

    /// <summary>A position no tuple has (block numbers stop below it): the "old place" of a row that was inserted.</summary>
    private static readonly ItemPointer NoPosition = new(uint.MaxValue, 0);

    /// <summary>A DELETE of pg_class: the tracked row it removes, if any, and where it was.</summary>
    public (TrackedClassRow Row, ItemPointer At)? OnClassDeleteAt(in HeapDelete delete, uint topXid)
    {
        var at = new ItemPointer(delete.BlockNumber, delete.Offnum);
        return OnClassDelete(delete, topXid) is { } row ? (row, at) : null;
    }

    /// <summary>A DELETE of pg_class: the tracked row it removes, if any.</summary>
    public TrackedClassRow? OnClassDelete(in HeapDelete delete, uint topXid)
    {
        var at = new ItemPointer(delete.BlockNumber, delete.Offnum);
        if (_pendingClassRows.TryGetValue(at, out var pending) && pending.Owner == topXid) return pending.Row;
        return _classRows.TryGetValue(at, out var row) ? row : null;
    }


    /// <summary>An INSERT into pg_attribute (tuple in WAL form, or read from the image): the synced table it adds a column to.</summary>
    public int? OnAttributeInsert(ReadOnlySpan<byte> walTuple) => TableOf(WalTupleOid(walTuple, AttributeRelidOffset));

    /// <summary>One tuple of a MULTI_INSERT into pg_attribute: the synced table it adds a column to.</summary>
    public int? OnAttributeInsert(in HeapTupleImage tuple)
    {
        var dataStart = tuple.Hoff - HeapTupleImage.OnPageHeaderSize + AttributeRelidOffset;
        return dataStart >= 0 && dataStart + 4 <= tuple.Body.Length ? TableOf(BinaryPrimitives.ReadUInt32LittleEndian(tuple.Body[dataStart..])) : null;
    }

    /// <summary>An INSERT into pg_attribute whose data went into a full-page image: reads the tuple off the page.</summary>
    public int? OnAttributeInsertImage(WalRecord record, int blockIndex, ushort offnum) => TableOf(PageTupleOid(record, blockIndex, offnum, AttributeRelidOffset));

    /// <summary>The attrelid of a pg_attribute row inserted with its data in a full-page image (0 when it cannot be read).</summary>
    public uint AttributeRelationInImage(WalRecord record, int blockIndex, ushort offnum) => PageTupleOid(record, blockIndex, offnum, AttributeRelidOffset);

    /// <summary>
    /// An INSERT into pg_inherits (tuple in WAL form, or from the image when <paramref name="walTuple"/> is empty): the
    /// synced partitioned table (or partitioned partition of one) that gained a partition, if any.
    /// </summary>
    public int? OnInheritsInsert(ReadOnlySpan<byte> walTuple, WalRecord record, int blockIndex, ushort offnum)
    {
        var parent = walTuple.IsEmpty ? PageTupleOid(record, blockIndex, offnum, InheritsParentOffset) : WalTupleOid(walTuple, InheritsParentOffset);
        return TableOf(parent) is { } table && !_tables[table].HasStorage ? table : null;
    }

    /// <summary>
    /// An INSERT into pg_index (tuple in WAL form, or from the image when <paramref name="walTuple"/> is empty): the
    /// synced table that gained a primary key or replica identity index, if any; other indexes do not matter.
    /// </summary>
    public int? OnIndexInsert(ReadOnlySpan<byte> walTuple, WalRecord record, int blockIndex, ushort offnum)
    {
        ReadOnlySpan<byte> data;
        if (walTuple.IsEmpty)
        {
            data = HeapPage.Data(PageTuple(record, blockIndex, offnum));
        }
        else
        {
            if (walTuple.Length < HeapTupleImage.HeaderSize) return null;
            var start = HeapTupleImage.HeaderSize + walTuple[4] - HeapTupleImage.OnPageHeaderSize;
            if (start < 0 || start > walTuple.Length) return null;
            data = walTuple[start..];
        }

        if (data.Length <= IndexIsReplicaIdentityOffset) return null;
        if (data[IndexIsPrimaryOffset] == 0 && data[IndexIsReplicaIdentityOffset] == 0) return null;
        return TableOf(BinaryPrimitives.ReadUInt32LittleEndian(data[IndexRelidOffset..]));
    }

    /// <summary>The OID at <paramref name="offset"/> in the data of a tuple in WAL form (0 when it does not fit).</summary>
    private static uint WalTupleOid(ReadOnlySpan<byte> walTuple, int offset)
    {
        if (walTuple.Length < HeapTupleImage.HeaderSize) return 0;
        var hoff = walTuple[4];
        var dataStart = HeapTupleImage.HeaderSize + hoff - HeapTupleImage.OnPageHeaderSize;
        if (dataStart < 0 || dataStart + offset + 4 > walTuple.Length) return 0;
        return BinaryPrimitives.ReadUInt32LittleEndian(walTuple[(dataStart + offset)..]);
    }

    /// <summary>The OID at <paramref name="offset"/> in the data of the tuple at <paramref name="offnum"/> of a block's image (0 when absent).</summary>
    private uint PageTupleOid(WalRecord record, int blockIndex, ushort offnum, int offset)
    {
        var data = HeapPage.Data(PageTuple(record, blockIndex, offnum));
        return offset + 4 <= data.Length ? BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]) : 0;
    }

    private int? TableOf(uint relationOid) => _tableByOid.TryGetValue(relationOid, out var table) ? table : null;

    /// <summary>
    /// A page logged whole (XLOG_FPI) in a transaction: a rewrite of pg_class or pg_attribute writes its new file
    /// this way before the RelMap update names the file. Remembers the tuples whose first field is a tracked OID,
    /// for <see cref="OnRelMapUpdate"/>; pages of files already known (the catalogs' own) are left alone.
    /// </summary>
    public void OnWholePages(WalRecord record)
    {
        List<RewrittenCatalogTuple>? found = null;
        for (var index = 0; index < record.BlockCount; index++)
        {
            ref readonly var block = ref record.Block(index);
            if (!block.HasImage || block.Fork != ForkNumber.Main || block.Relation.DbOid != DatabaseOid) continue;
            var file = block.Relation.RelNumber;
            if (file == PgClassRelFileNode || file == PgAttributeRelFileNode || file == PgInheritsRelFileNode || file == PgIndexRelFileNode) continue;
            _page ??= new byte[record.BlockSize];
            record.RestorePageImage(index, _page);
            CollectTrackedTuples(_page, file, block.BlockNumber, found ??= []);
        }

        if (found is { Count: > 0 }) _transactionOf(record.Xid, record.Lsn).AddRewrittenTuples(found);
    }

    private void CollectTrackedTuples(ReadOnlySpan<byte> bytes, uint file, uint blockNumber, List<RewrittenCatalogTuple> into)
    {
        var page = new HeapPage(bytes);
        // A heap page: no special space. Index pages (also logged whole when built) have some.
        if (!page.HasNoSpecialSpace) return;
        for (var offnum = 1; offnum <= page.ItemCount; offnum++)
        {
            var tuple = page.Tuple(offnum);
            var data = HeapPage.Data(tuple);
            if (data.Length < 4 || !_trackedOids.Contains(CatalogRowDefinition.RelationOid(data))) continue;
            into.Add(new RewrittenCatalogTuple(file, new ItemPointer(blockNumber, (ushort)offnum),
                data[..Math.Min(data.Length, CatalogRowDefinition.ClassLength)].ToArray(), HeapPage.LooksCurrent(tuple)));
        }
    }

    /// <summary>
    /// A RelMap update for our database that gives pg_class or pg_attribute a new file (VACUUM FULL or CLUSTER of
    /// it): finds each tracked row in the pages the transaction logged for that file and keeps the new positions on
    /// the transaction, for its commit. Returns the tables whose rows could not be found again, with why; those are
    /// no longer followed. False when the update does not concern the catalogs followed.
    /// </summary>
    public bool OnRelMapUpdate(in RelMapUpdate update, OpenTransaction transaction, List<(int Table, string Why)> lost)
    {
        if (update.DbId != DatabaseOid || update.MapFile.Length < 8) return false;
        var count = BinaryPrimitives.ReadInt32LittleEndian(update.MapFile[4..]);
        uint classFile = 0, attributeFile = 0;
        for (var i = 0; i < count && 8 + 8 * i + 8 <= update.MapFile.Length; i++)
        {
            var oid = BinaryPrimitives.ReadUInt32LittleEndian(update.MapFile[(8 + 8 * i)..]);
            var file = BinaryPrimitives.ReadUInt32LittleEndian(update.MapFile[(12 + 8 * i)..]);
            if (oid == PgClassOid && file != PgClassRelFileNode) classFile = file;
            if (oid == PgAttributeOid && file != PgAttributeRelFileNode) attributeFile = file;
        }

        if (classFile == 0 && attributeFile == 0) return false;
        var previous = transaction.Rewrite;
        var found = IndexRewritten(transaction.RewrittenTuples, classFile, attributeFile);
        var classRows = previous?.ClassRows ?? new Dictionary<ItemPointer, TrackedClassRow>();
        if (classFile != 0)
        {
            var relocated = new Dictionary<ItemPointer, TrackedClassRow>();
            foreach (var row in _classRows.Values)
            {
                var what = row.IsToast ? "the pg_class row of its TOAST relation" : "its pg_class row";
                if (TryRelocate(found, new RewrittenKey(classFile, row.RelationOid, 0), row.Definition, CatalogRowDefinition.ClassFields,
                        CatalogRowDefinition.ClassLength, row.RelFileNode, "pg_class", what, row.Table, lost, out var at, out var definition))
                    relocated[at] = row with { Definition = row.Definition ?? definition };
            }

            classRows = relocated;
        }

        var attributeRows = previous?.AttributeRows ?? new Dictionary<ItemPointer, TrackedAttributeRow>();
        if (attributeFile != 0)
        {
            var relocated = new Dictionary<ItemPointer, TrackedAttributeRow>();
            foreach (var row in _attributeRows.Values)
            {
                if (TryRelocate(found, new RewrittenKey(attributeFile, _tables[row.Table].RelationOid, row.AttNum), row.Definition,
                        CatalogRowDefinition.AttributeFields, CatalogRowDefinition.AttributeLength, null, "pg_attribute", $"the row of column {row.AttNum}",
                        row.Table, lost, out var at, out var definition))
                    relocated[at] = row with { Definition = row.Definition ?? definition };
            }

            attributeRows = relocated;
        }

        transaction.Rewrite = new CatalogRewrite(classFile != 0 ? classFile : previous?.ClassFile ?? 0,
            attributeFile != 0 ? attributeFile : previous?.AttributeFile ?? 0, classRows, attributeRows);
        return true;
    }

    /// <summary>A rewritten tuple's key: its file, its relation's OID and, in pg_attribute, its column number (0 in pg_class).</summary>
    private readonly record struct RewrittenKey(uint File, uint RelationOid, short AttNum);

    /// <summary>
    /// The live tuples of the rewritten catalogs' new files by key, each with how many share it: one pass over what the
    /// rewrite logged, so that finding every tracked row again costs one lookup each.
    /// </summary>
    private static Dictionary<RewrittenKey, (int Count, RewrittenCatalogTuple Tuple)> IndexRewritten(ReadOnlySpan<RewrittenCatalogTuple> tuples, uint classFile, uint attributeFile)
    {
        var index = new Dictionary<RewrittenKey, (int Count, RewrittenCatalogTuple Tuple)>();
        foreach (var tuple in tuples)
        {
            if (!tuple.IsLive || (tuple.File != classFile && tuple.File != attributeFile)) continue;
            var attNum = tuple.File == attributeFile ? CatalogRowDefinition.AttNum(tuple.Data) : (short)0;
            var key = new RewrittenKey(tuple.File, CatalogRowDefinition.RelationOid(tuple.Data), attNum);
            index[key] = index.TryGetValue(key, out var seen) ? (seen.Count + 1, seen.Tuple) : (1, tuple);
        }

        return index;
    }

    /// <summary>
    /// Finds a tracked row again in its catalog's new file: exactly one live version with its key, defining what the row
    /// followed defines (and, for a pg_class row, naming the same file). Otherwise the table goes into <paramref name="lost"/>,
    /// with why, and the row is no longer followed.
    /// </summary>
    /// <param name="relFileNode">The file a pg_class row names; null for a pg_attribute row.</param>
    private static bool TryRelocate(Dictionary<RewrittenKey, (int Count, RewrittenCatalogTuple Tuple)> found, RewrittenKey key, byte[]? followed,
        IReadOnlyList<CatalogRowDefinition.Field> fields, int length, uint? relFileNode, string catalog, string what, int table,
        List<(int Table, string Why)> lost, out ItemPointer at, out byte[] definition)
    {
        at = default;
        definition = [];
        var count = found.TryGetValue(key, out var hit) ? hit.Count : 0;
        if (count != 1)
        {
            lost.Add((table, $"{catalog} was rewritten (VACUUM FULL or CLUSTER) and {what} was {(count == 0 ? "not found" : "found more than once")} in the pages the rewrite logged"));
            return false;
        }

        var data = hit.Tuple.Data;
        var read = CatalogRowDefinition.FromData(data, fields, length);
        var named = data.Length >= ClassRelFileNodeOffset + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(ClassRelFileNodeOffset)) : 0;
        if (read is null || (relFileNode is { } expected && named != expected)
            || (followed is not null && CatalogRowDefinition.Differences(followed, read, fields).Count > 0))
        {
            lost.Add((table, $"{catalog} was rewritten (VACUUM FULL or CLUSTER) and {what} in the new file differs from the one followed"));
            return false;
        }

        at = hit.Tuple.At;
        definition = read;
        return true;
    }

    /// <summary>
    /// The transaction ended committed: its moves by committed (sub)transactions become the tracked positions, and
    /// a catalog it rewrote is followed into its new file. A move made in a catalog file that has since been replaced
    /// cannot be placed: its table is returned, with why (null when there is none).
    /// </summary>
    public List<(int Table, string Why)>? Commit(OpenTransaction transaction, HashSet<uint> committed, Action<TrackedClassRow, uint> relFileNodeReplaced)
    {
        List<(int Table, string Why)>? lost = null;
        foreach (var move in transaction.CatalogMoves)
        {
            if (!committed.Contains(move.Xid)) continue;
            if (move.Attribute is { } attribute)
            {
                if (move.File != PgAttributeRelFileNode)
                {
                    (lost ??= []).Add((attribute.Table, "one of its pg_attribute rows changed while pg_attribute was being rewritten"));
                    continue;
                }

                _attributeRows.Remove(move.Old);
                _attributeRows[move.New] = attribute;
                continue;
            }

            if (move.File != PgClassRelFileNode)
            {
                (lost ??= []).Add((move.Row.Table, "its pg_class row changed while pg_class was being rewritten"));
                continue;
            }

            if (_classRows.Remove(move.Old, out var before) && before.RelFileNode != move.Row.RelFileNode)
                relFileNodeReplaced(before, move.Row.RelFileNode);
            // A row deleted goes nowhere.
            if (move.New != NoPosition) _classRows[move.New] = move.Row;
        }

        if (transaction.Rewrite is { } rewrite && committed.Contains(transaction.Xid))
        {
            if (rewrite.ClassFile != 0)
            {
                _classRows.Clear();
                foreach (var (at, row) in rewrite.ClassRows) _classRows[at] = row;
                PgClassRelFileNode = rewrite.ClassFile;
            }

            if (rewrite.AttributeFile != 0)
            {
                _attributeRows.Clear();
                foreach (var (at, row) in rewrite.AttributeRows) _attributeRows[at] = row;
                PgAttributeRelFileNode = rewrite.AttributeFile;
            }
        }

        Forget(transaction);
        return lost;
    }

    /// <summary>The transaction ended without committing (or was found dead): drop what it would have moved.</summary>
    public void Forget(OpenTransaction transaction)
    {
        foreach (var move in transaction.CatalogMoves)
        {
            if (move.Attribute is null) _pendingClassRows.Remove(move.New);
            else _pendingAttributeRows.Remove(move.New);
        }
    }

    /// <summary>The committed positions now, and the files the tracked pg_class rows name.</summary>
    public (CatalogLocations Locations, IReadOnlyDictionary<(int Table, bool IsToast), uint> Files) Current()
    {
        var rows = new List<CatalogRowLocation>();
        var files = new Dictionary<(int, bool), uint>();
        foreach (var (at, row) in _classRows)
        {
            rows.Add(new CatalogRowLocation(row.RelationOid, 0, at.Block, at.Offnum, row.Definition));
            files[(row.Table, row.IsToast)] = row.RelFileNode;
        }

        foreach (var (at, column) in _attributeRows)
            rows.Add(new CatalogRowLocation(_tables[column.Table].RelationOid, column.AttNum, at.Block, at.Offnum, column.Definition));
        return (new CatalogLocations(DatabaseOid, PgClassRelFileNode, PgAttributeRelFileNode, rows, PgInheritsRelFileNode, PgIndexRelFileNode), files);
    }

    /// <summary>
    /// The new version of an updated catalog row as the record carries it: the whole data (from the page image
    /// when block 0 has one, or the logged tuple when nothing was left out), or the logged middle part with the
    /// number of leading bytes left out because they are the old version's; <c>Present</c> false when neither.
    /// </summary>
    private readonly ref struct NewVersion(bool present, bool whole, int prefixLength, ReadOnlySpan<byte> data)
    {
        public bool Present { get; } = present;
        public bool Whole { get; } = whole;
        public int PrefixLength { get; } = prefixLength;
        public ReadOnlySpan<byte> Data { get; } = data;
    }

    private NewVersion ReadNewVersion(WalRecord record, in HeapUpdate update, uint relationOid)
    {
        var index = record.IndexOfBlockId(0);
        ref readonly var block = ref record.Block(index);
        if (block.HasImage && !block.HasData)
        {
            var data = HeapPage.Data(PageTuple(record, index, update.NewOffnum));
            if (data.Length < 4 || BinaryPrimitives.ReadUInt32LittleEndian(data) != relationOid) return default;
            ReadFromImages++;
            return new NewVersion(true, true, 0, data);
        }

        if (!update.NewTuple.IsPresent) return default;
        ReadFromData++;
        var middle = update.NewTuple.Body[(update.NewTuple.Hoff - HeapTupleImage.OnPageHeaderSize)..];
        return new NewVersion(true, update.PrefixLength == 0 && update.SuffixLength == 0, update.PrefixLength, middle);
    }

    /// <summary>
    /// The new version's relfilenode: from the whole data, or else from the middle part, where the leading bytes
    /// shared with the old version (prefix) and the trailing ones (suffix) are left out: those bytes are the old row's.
    /// </summary>
    private static bool TryReadNewRelFileNode(in NewVersion version, TrackedClassRow row, out uint relFileNode)
    {
        relFileNode = row.RelFileNode;
        if (!version.Present) return false;
        if (version.Whole)
        {
            if (version.Data.Length < ClassRelFileNodeOffset + 4) return false;
            relFileNode = BinaryPrimitives.ReadUInt32LittleEndian(version.Data[ClassRelFileNodeOffset..]);
            return true;
        }

        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, row.RelFileNode);
        for (var i = 0; i < 4; i++)
        {
            var at = ClassRelFileNodeOffset + i - version.PrefixLength;
            if (at >= 0 && at < version.Data.Length) bytes[i] = version.Data[at];
            // Before the middle part: a prefix byte, the old row's. After it: a suffix byte; pg_class's
            // fixed part keeps its offsets, so it is the old row's byte at the same place.
        }

        relFileNode = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        return true;
    }

    /// <summary>The new version's definition, or null when it cannot be told (not readable, or the old one unknown).</summary>
    private static byte[]? NewDefinition(in NewVersion version, byte[]? old, IReadOnlyList<CatalogRowDefinition.Field> fields, int length)
    {
        if (!version.Present || old is null) return null;
        return version.Whole ? CatalogRowDefinition.FromData(version.Data, fields, length)
            : CatalogRowDefinition.FromUpdate(old, version.PrefixLength, version.Data, fields);
    }

    /// <summary>The on-page tuple at <paramref name="offnum"/> of block <paramref name="blockIndex"/>'s image (empty if not there).</summary>
    public ReadOnlySpan<byte> PageTuple(WalRecord record, int blockIndex, ushort offnum)
    {
        _page ??= new byte[record.BlockSize];
        record.RestorePageImage(blockIndex, _page);
        return new HeapPage(_page).Tuple(offnum);
    }

    public string Describe(TrackedClassRow row) => row.IsToast ? $"TOAST relation of {_tables[row.Table].QualifiedName}" : _tables[row.Table].QualifiedName;
}
