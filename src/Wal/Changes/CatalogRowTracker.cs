using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Records;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Changes;

/// <summary>
/// Follows the pg_class and pg_attribute rows of the synced tables through WAL, by position: an
/// UPDATE or DELETE of pg_class at a tracked ctid is a change of that table's (or its TOAST
/// relation's) row, and the new version's relfilenode is read from the record's data or from the
/// page image it carries. pg_attribute rows are recognised by tracked ctid (updates, deletes) or by
/// their attrelid (inserts). Row moves count only once their transaction commits.
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
    private const uint PgClassOid = 1259;
    private const uint PgAttributeOid = 1249;

    private readonly IReadOnlyList<TableDescriptor> _tables;
    private readonly Dictionary<uint, int> _tableByOid = [];
    private readonly Dictionary<ItemPointer, TrackedClassRow> _classRows = [];
    private readonly Dictionary<ItemPointer, (TrackedClassRow Row, uint Owner)> _pendingClassRows = [];
    private readonly Dictionary<ItemPointer, (int Table, short AttNum)> _attributeRows = [];
    private byte[]? _page;

    public CatalogRowTracker(IReadOnlyList<TableDescriptor> tables, CatalogLocations locations)
    {
        _tables = tables;
        DatabaseOid = locations.DatabaseOid;
        PgClassRelFileNode = locations.PgClassRelFileNode;
        PgAttributeRelFileNode = locations.PgAttributeRelFileNode;
        PgInheritsRelFileNode = locations.PgInheritsRelFileNode;
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
                    _classRows[at] = new TrackedClassRow(table, false, row.RelationOid, tables[table].RelFileNode);
                else if (toastOf.TryGetValue(row.RelationOid, out table))
                    _classRows[at] = new TrackedClassRow(table, true, row.RelationOid, tables[table].ToastRelFileNode);
            }
            else if (_tableByOid.TryGetValue(row.RelationOid, out var table))
            {
                _attributeRows[at] = (table, row.AttNum);
            }
        }
    }

    public uint DatabaseOid { get; }
    public uint PgClassRelFileNode { get; private set; }
    public uint PgAttributeRelFileNode { get; private set; }
    public uint PgInheritsRelFileNode { get; }

    /// <summary>False once a catalog was rewritten (VACUUM FULL pg_class): positions mean nothing any more.</summary>
    public bool IsFollowing { get; private set; } = true;

    /// <summary>New relfilenodes read from a full-page image, and from tuple data (for tests and diagnostics).</summary>
    public int ReadFromImages { get; private set; }
    public int ReadFromData { get; private set; }

    public bool IsCatalog(in RelFileLocator relation) =>
        relation.DbOid == DatabaseOid && (relation.RelNumber == PgClassRelFileNode || relation.RelNumber == PgAttributeRelFileNode
                                          || (PgInheritsRelFileNode != 0 && relation.RelNumber == PgInheritsRelFileNode));

    /// <summary>What an UPDATE of a tracked pg_class row did.</summary>
    public readonly record struct ClassUpdate(TrackedClassRow Row, uint NewRelFileNode, bool RelFileNodeKnown);

    /// <summary>Looks at an UPDATE of pg_class; null when it is not a tracked row's.</summary>
    public ClassUpdate? OnClassUpdate(WalRecord record, in HeapUpdate update, uint topXid, Func<OpenTransaction> transactionOf)
    {
        var old = new ItemPointer(update.OldBlockNumber, update.OldOffnum);
        TrackedClassRow row;
        if (_pendingClassRows.TryGetValue(old, out var pending) && pending.Owner == topXid) row = pending.Row;
        else if (!_classRows.TryGetValue(old, out row)) return null;

        var transaction = transactionOf();

        var known = TryReadNewRelFileNode(record, update, row, out var relFileNode);
        var moved = row with { RelFileNode = known ? relFileNode : row.RelFileNode };
        var at = new ItemPointer(update.NewBlockNumber, update.NewOffnum);
        _pendingClassRows[at] = (moved, transaction.Xid);
        transaction.CatalogMoves.Add(new CatalogRowMove(record.Xid, old, at, moved));
        return new ClassUpdate(row, relFileNode, known);
    }

    /// <summary>A DELETE of pg_class: the tracked row it removes, if any.</summary>
    public TrackedClassRow? OnClassDelete(in HeapDelete delete, uint topXid)
    {
        var at = new ItemPointer(delete.BlockNumber, delete.Offnum);
        if (_pendingClassRows.TryGetValue(at, out var pending) && pending.Owner == topXid) return pending.Row;
        return _classRows.TryGetValue(at, out var row) ? row : null;
    }

    /// <summary>An UPDATE or DELETE of pg_attribute: the synced table and attnum whose row it hits, if any.</summary>
    public (int Table, short AttNum)? OnAttributeChange(uint block, ushort offnum) =>
        _attributeRows.TryGetValue(new ItemPointer(block, offnum), out var hit) ? hit : null;

    /// <summary>An INSERT into pg_attribute (tuple in WAL form, or read from the image): the synced table it adds a column to.</summary>
    public int? OnAttributeInsert(ReadOnlySpan<byte> walTuple) => TableOf(WalTupleOid(walTuple, AttributeRelidOffset));

    /// <summary>An INSERT into pg_attribute whose data went into a full-page image: reads the tuple off the page.</summary>
    public int? OnAttributeInsertImage(WalRecord record, int blockIndex, ushort offnum) => TableOf(PageTupleOid(record, blockIndex, offnum, AttributeRelidOffset));

    /// <summary>
    /// An INSERT into pg_inherits (tuple in WAL form, or from the image when <paramref name="walTuple"/> is empty): the
    /// synced partitioned table (or partitioned partition of one) that gained a partition, if any.
    /// </summary>
    public int? OnInheritsInsert(ReadOnlySpan<byte> walTuple, WalRecord record, int blockIndex, ushort offnum)
    {
        var parent = walTuple.IsEmpty ? PageTupleOid(record, blockIndex, offnum, InheritsParentOffset) : WalTupleOid(walTuple, InheritsParentOffset);
        return TableOf(parent) is { } table && !_tables[table].HasStorage ? table : null;
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
        var tuple = PageTuple(record, blockIndex, offnum);
        if (tuple.Length < 24) return 0;
        var hoff = tuple[22];
        return hoff + offset + 4 <= tuple.Length ? BinaryPrimitives.ReadUInt32LittleEndian(tuple[(hoff + offset)..]) : 0;
    }

    private int? TableOf(uint relationOid) => _tableByOid.TryGetValue(relationOid, out var table) ? table : null;

    /// <summary>A RelMap update for our database: a rewritten pg_class or pg_attribute invalidates every tracked position.</summary>
    public bool OnRelMapUpdate(in RelMapUpdate update)
    {
        if (update.DbId != DatabaseOid || update.MapFile.Length < 8) return false;
        var count = BinaryPrimitives.ReadInt32LittleEndian(update.MapFile[4..]);
        var rewritten = false;
        for (var i = 0; i < count && 8 + 8 * i + 8 <= update.MapFile.Length; i++)
        {
            var oid = BinaryPrimitives.ReadUInt32LittleEndian(update.MapFile[(8 + 8 * i)..]);
            var file = BinaryPrimitives.ReadUInt32LittleEndian(update.MapFile[(12 + 8 * i)..]);
            if ((oid == PgClassOid && file != PgClassRelFileNode) || (oid == PgAttributeOid && file != PgAttributeRelFileNode))
                rewritten = true;
        }

        return rewritten;
    }

    /// <summary>The transaction ended committed: its moves by committed (sub)transactions become the tracked positions.</summary>
    public void Commit(OpenTransaction transaction, HashSet<uint> committed, Action<TrackedClassRow, uint> relFileNodeReplaced)
    {
        foreach (var move in transaction.CatalogMoves)
        {
            if (!committed.Contains(move.Xid)) continue;
            if (_classRows.Remove(move.Old, out var before) && before.RelFileNode != move.Row.RelFileNode)
                relFileNodeReplaced(before, move.Row.RelFileNode);
            _classRows[move.New] = move.Row;
        }

        Forget(transaction);
    }

    /// <summary>The transaction ended without committing (or was found dead): drop what it would have moved.</summary>
    public void Forget(OpenTransaction transaction)
    {
        foreach (var move in transaction.CatalogMoves) _pendingClassRows.Remove(move.New);
    }

    /// <summary>The committed positions now, and the files the tracked pg_class rows name.</summary>
    public (CatalogLocations Locations, IReadOnlyDictionary<(int Table, bool IsToast), uint> Files) Current()
    {
        var rows = new List<CatalogRowLocation>();
        var files = new Dictionary<(int, bool), uint>();
        foreach (var (at, row) in _classRows)
        {
            rows.Add(new CatalogRowLocation(row.RelationOid, 0, at.Block, at.Offnum));
            files[(row.Table, row.IsToast)] = row.RelFileNode;
        }

        foreach (var (at, column) in _attributeRows)
            rows.Add(new CatalogRowLocation(_tables[column.Table].RelationOid, column.AttNum, at.Block, at.Offnum));
        return (new CatalogLocations(DatabaseOid, PgClassRelFileNode, PgAttributeRelFileNode, rows, PgInheritsRelFileNode), files);
    }

    /// <summary>Stops following positions (a catalog was rewritten).</summary>
    public void StopFollowing()
    {
        IsFollowing = false;
        _classRows.Clear();
        _pendingClassRows.Clear();
        _attributeRows.Clear();
    }

    /// <summary>
    /// The new version's relfilenode: from the page image when block 0 has one (checking the OID),
    /// else from the tuple data, where the leading bytes shared with the old version (prefix) and
    /// the trailing ones (suffix) are left out: those bytes are the old row's.
    /// </summary>
    private bool TryReadNewRelFileNode(WalRecord record, in HeapUpdate update, TrackedClassRow row, out uint relFileNode)
    {
        relFileNode = row.RelFileNode;
        var index = record.IndexOfBlockId(0);
        ref readonly var block = ref record.Block(index);
        if (block.HasImage && !block.HasData)
        {
            var tuple = PageTuple(record, index, update.NewOffnum);
            if (tuple.Length < 24) return false;
            var hoff = tuple[22];
            if (hoff + ClassRelFileNodeOffset + 4 > tuple.Length) return false;
            if (BinaryPrimitives.ReadUInt32LittleEndian(tuple[(hoff + ClassOidOffset)..]) != row.RelationOid) return false;
            relFileNode = BinaryPrimitives.ReadUInt32LittleEndian(tuple[(hoff + ClassRelFileNodeOffset)..]);
            ReadFromImages++;
            return true;
        }

        if (!update.NewTuple.IsPresent) return false;
        var middle = update.NewTuple.Body[(update.NewTuple.Hoff - HeapTupleImage.OnPageHeaderSize)..];
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, row.RelFileNode);
        for (var i = 0; i < 4; i++)
        {
            var at = ClassRelFileNodeOffset + i - update.PrefixLength;
            if (at >= 0 && at < middle.Length) bytes[i] = middle[at];
            // Before the middle part: a prefix byte, the old row's. After it: a suffix byte; pg_class's
            // fixed part keeps its offsets, so it is the old row's byte at the same place.
        }

        relFileNode = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        ReadFromData++;
        return true;
    }

    /// <summary>The on-page tuple at <paramref name="offnum"/> of block <paramref name="blockIndex"/>'s image (empty if not there).</summary>
    private ReadOnlySpan<byte> PageTuple(WalRecord record, int blockIndex, ushort offnum)
    {
        _page ??= new byte[record.BlockSize];
        record.RestorePageImage(blockIndex, _page);
        var page = _page.AsSpan();
        var lower = BinaryPrimitives.ReadUInt16LittleEndian(page[12..]);
        var pointerAt = 24 + 4 * (offnum - 1);
        if (offnum < 1 || pointerAt + 4 > lower) return default;
        var pointer = BinaryPrimitives.ReadUInt32LittleEndian(page[pointerAt..]);
        var offset = (int)(pointer & 0x7FFF);
        var flags = (pointer >> 15) & 3;
        var length = (int)(pointer >> 17);
        if (flags != 1 || offset + length > page.Length) return default;
        return page.Slice(offset, length);
    }

    public string Describe(TrackedClassRow row) => row.IsToast ? $"TOAST relation of {_tables[row.Table].QualifiedName}" : _tables[row.Table].QualifiedName;
}
