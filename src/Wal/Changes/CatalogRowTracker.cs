using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Records;
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
    private byte[]? _page;

    public CatalogRowTracker(IReadOnlyList<TableDescriptor> tables, CatalogLocations locations)
    {
        _tables = tables;
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
    public readonly record struct ClassUpdate(TrackedClassRow Row, uint NewRelFileNode, bool RelFileNodeKnown, IReadOnlyList<string>? Changed);

    /// <summary>Looks at an UPDATE of pg_class; null when it is not a tracked row's.</summary>
    public ClassUpdate? OnClassUpdate(WalRecord record, in HeapUpdate update, uint topXid, Func<OpenTransaction> transactionOf)
    {
        var old = new ItemPointer(update.OldBlockNumber, update.OldOffnum);
        TrackedClassRow row;
        if (_pendingClassRows.TryGetValue(old, out var pending) && pending.Owner == topXid) row = pending.Row;
        else if (!_classRows.TryGetValue(old, out row)) return null;

        var transaction = transactionOf();

        var version = ReadNewVersion(record, update, row.RelationOid);
        var known = TryReadNewRelFileNode(version, row, out var relFileNode);
        var definition = NewDefinition(version, row.Definition, CatalogRowDefinition.ClassFields, CatalogRowDefinition.ClassLength);
        var changed = definition is null ? null : CatalogRowDefinition.Differences(row.Definition!, definition, CatalogRowDefinition.ClassFields);
        var moved = row with { RelFileNode = known ? relFileNode : row.RelFileNode, Definition = definition ?? row.Definition };
        var at = new ItemPointer(update.NewBlockNumber, update.NewOffnum);
        _pendingClassRows[at] = (moved, transaction.Xid);
        transaction.CatalogMoves.Add(new CatalogRowMove(record.Xid, old, at, moved, PgClassRelFileNode));
        return new ClassUpdate(row, relFileNode, known, changed);
    }

    /// <summary>
    /// Looks at an UPDATE of pg_attribute: null when it is not a tracked row's; otherwise the row before and the
    /// fields of its definition that changed (null when that cannot be told). The row is followed to its new place.
    /// </summary>
    public (TrackedAttributeRow Row, IReadOnlyList<string>? Changed)? OnAttributeUpdate(WalRecord record, in HeapUpdate update, uint topXid,
        Func<OpenTransaction> transactionOf)
    {
        var old = new ItemPointer(update.OldBlockNumber, update.OldOffnum);
        TrackedAttributeRow row;
        if (_pendingAttributeRows.TryGetValue(old, out var pending) && pending.Owner == topXid) row = pending.Row;
        else if (!_attributeRows.TryGetValue(old, out row)) return null;

        var transaction = transactionOf();
        var version = ReadNewVersion(record, update, _tables[row.Table].RelationOid);
        var definition = NewDefinition(version, row.Definition, CatalogRowDefinition.AttributeFields, CatalogRowDefinition.AttributeLength);
        var changed = definition is null ? null : CatalogRowDefinition.Differences(row.Definition!, definition, CatalogRowDefinition.AttributeFields);
        var moved = row with { Definition = definition ?? row.Definition };
        var at = new ItemPointer(update.NewBlockNumber, update.NewOffnum);
        _pendingAttributeRows[at] = (moved, transaction.Xid);
        transaction.CatalogMoves.Add(new CatalogRowMove(record.Xid, old, at, default, PgAttributeRelFileNode, moved));
        return (row, changed);
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
            var tuple = PageTuple(record, blockIndex, offnum);
            if (tuple.Length < 24 || tuple[22] > tuple.Length) return null;
            data = tuple[tuple[22]..];
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
        var tuple = PageTuple(record, blockIndex, offnum);
        if (tuple.Length < 24) return 0;
        var hoff = tuple[22];
        return hoff + offset + 4 <= tuple.Length ? BinaryPrimitives.ReadUInt32LittleEndian(tuple[(hoff + offset)..]) : 0;
    }

    private int? TableOf(uint relationOid) => _tableByOid.TryGetValue(relationOid, out var table) ? table : null;

    /// <summary>
    /// A page logged whole (XLOG_FPI) in a transaction: a rewrite of pg_class or pg_attribute writes its new file
    /// this way before the RelMap update names the file. Remembers the tuples whose first field is a tracked OID,
    /// for <see cref="OnRelMapUpdate"/>; pages of files already known (the catalogs' own) are left alone.
    /// </summary>
    public void OnWholePages(WalRecord record, Func<OpenTransaction> transactionOf)
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

        if (found is { Count: > 0 }) transactionOf().RewrittenTuples.AddRange(found);
    }

    private void CollectTrackedTuples(ReadOnlySpan<byte> page, uint file, uint blockNumber, List<RewrittenCatalogTuple> into)
    {
        // A heap page: no special space. Index pages (also logged whole when built) have some.
        if (page.Length < 24 || BinaryPrimitives.ReadUInt16LittleEndian(page[16..]) != page.Length) return;
        var lower = BinaryPrimitives.ReadUInt16LittleEndian(page[12..]);
        for (var pointerAt = 24; pointerAt + 4 <= lower && pointerAt + 4 <= page.Length; pointerAt += 4)
        {
            var pointer = BinaryPrimitives.ReadUInt32LittleEndian(page[pointerAt..]);
            var offset = (int)(pointer & 0x7FFF);
            var length = (int)(pointer >> 17);
            if (((pointer >> 15) & 3) != 1 || length < 24 || offset + length > page.Length) continue;
            var tuple = page.Slice(offset, length);
            var hoff = tuple[22];
            if (hoff + 4 > tuple.Length) continue;
            var data = tuple[hoff..];
            if (!_trackedOids.Contains(CatalogRowDefinition.RelationOid(data))) continue;
            var xmax = BinaryPrimitives.ReadUInt32LittleEndian(tuple[4..]);
            var infomask = BinaryPrimitives.ReadUInt16LittleEndian(tuple[20..]);
            var live = xmax == 0 || (infomask & (HeapXmaxInvalid | HeapXmaxLockOnly)) != 0;
            var offnum = (ushort)((pointerAt - 24) / 4 + 1);
            into.Add(new RewrittenCatalogTuple(file, new ItemPointer(blockNumber, offnum), data[..Math.Min(data.Length, CatalogRowDefinition.ClassLength)].ToArray(), live));
        }
    }

    private const ushort HeapXmaxInvalid = 0x0800;
    private const ushort HeapXmaxLockOnly = 0x0080;

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
        var classRows = classFile != 0 ? RelocateClassRows(transaction.RewrittenTuples, classFile, lost) : previous?.ClassRows;
        var attributeRows = attributeFile != 0 ? RelocateAttributeRows(transaction.RewrittenTuples, attributeFile, lost) : previous?.AttributeRows;
        transaction.Rewrite = new CatalogRewrite(classFile != 0 ? classFile : previous?.ClassFile ?? 0,
            attributeFile != 0 ? attributeFile : previous?.AttributeFile ?? 0,
            classRows ?? new Dictionary<ItemPointer, TrackedClassRow>(), attributeRows ?? new Dictionary<ItemPointer, TrackedAttributeRow>());
        return true;
    }

    private Dictionary<ItemPointer, TrackedClassRow> RelocateClassRows(List<RewrittenCatalogTuple> tuples, uint file, List<(int, string)> lost)
    {
        var relocated = new Dictionary<ItemPointer, TrackedClassRow>();
        foreach (var row in _classRows.Values)
        {
            var found = tuples.Where(t => t.File == file && t.IsLive && CatalogRowDefinition.RelationOid(t.Data) == row.RelationOid).ToList();
            var what = row.IsToast ? "the pg_class row of its TOAST relation" : "its pg_class row";
            if (found.Count != 1)
            {
                lost.Add((row.Table, $"pg_class was rewritten (VACUUM FULL or CLUSTER) and {what} was {(found.Count == 0 ? "not found" : "found more than once")} in the pages the rewrite logged"));
                continue;
            }

            var data = found[0].Data;
            var definition = CatalogRowDefinition.FromData(data, CatalogRowDefinition.ClassFields, CatalogRowDefinition.ClassLength);
            var named = data.Length >= ClassRelFileNodeOffset + 4 ? BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(ClassRelFileNodeOffset)) : 0;
            if (definition is null || named != row.RelFileNode
                || (row.Definition is not null && CatalogRowDefinition.Differences(row.Definition, definition, CatalogRowDefinition.ClassFields).Count > 0))
            {
                lost.Add((row.Table, $"pg_class was rewritten (VACUUM FULL or CLUSTER) and {what} in the new file differs from the one followed"));
                continue;
            }

            relocated[found[0].At] = row with { Definition = row.Definition ?? definition };
        }

        return relocated;
    }

    private Dictionary<ItemPointer, TrackedAttributeRow> RelocateAttributeRows(List<RewrittenCatalogTuple> tuples, uint file, List<(int, string)> lost)
    {
        var relocated = new Dictionary<ItemPointer, TrackedAttributeRow>();
        foreach (var row in _attributeRows.Values)
        {
            var oid = _tables[row.Table].RelationOid;
            var found = tuples.Where(t => t.File == file && t.IsLive && CatalogRowDefinition.RelationOid(t.Data) == oid
                                          && CatalogRowDefinition.AttNum(t.Data) == row.AttNum).ToList();
            if (found.Count != 1)
            {
                lost.Add((row.Table, $"pg_attribute was rewritten (VACUUM FULL or CLUSTER) and the row of column {row.AttNum} was {(found.Count == 0 ? "not found" : "found more than once")} in the pages the rewrite logged"));
                continue;
            }

            var definition = CatalogRowDefinition.FromData(found[0].Data, CatalogRowDefinition.AttributeFields, CatalogRowDefinition.AttributeLength);
            if (definition is null
                || (row.Definition is not null && CatalogRowDefinition.Differences(row.Definition, definition, CatalogRowDefinition.AttributeFields).Count > 0))
            {
                lost.Add((row.Table, $"pg_attribute was rewritten (VACUUM FULL or CLUSTER) and the row of column {row.AttNum} in the new file differs from the one followed"));
                continue;
            }

            relocated[found[0].At] = row with { Definition = row.Definition ?? definition };
        }

        return relocated;
    }

    /// <summary>
    /// The transaction ended committed: its moves by committed (sub)transactions become the tracked positions, and
    /// a catalog it rewrote is followed into its new file. A move made in a catalog file that has since been replaced
    /// cannot be placed: its table is reported through <paramref name="lostRow"/>.
    /// </summary>
    public void Commit(OpenTransaction transaction, HashSet<uint> committed, Action<TrackedClassRow, uint> relFileNodeReplaced, Action<int, string> lostRow)
    {
        foreach (var move in transaction.CatalogMoves)
        {
            if (!committed.Contains(move.Xid)) continue;
            if (move.Attribute is { } attribute)
            {
                if (move.File != PgAttributeRelFileNode)
                {
                    lostRow(attribute.Table, "one of its pg_attribute rows changed while pg_attribute was being rewritten");
                    continue;
                }

                _attributeRows.Remove(move.Old);
                _attributeRows[move.New] = attribute;
                continue;
            }

            if (move.File != PgClassRelFileNode)
            {
                lostRow(move.Row.Table, "its pg_class row changed while pg_class was being rewritten");
                continue;
            }

            if (_classRows.Remove(move.Old, out var before) && before.RelFileNode != move.Row.RelFileNode)
                relFileNodeReplaced(before, move.Row.RelFileNode);
            _classRows[move.New] = move.Row;
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
            var tuple = PageTuple(record, index, update.NewOffnum);
            if (tuple.Length < 24) return default;
            var hoff = tuple[22];
            if (hoff + 4 > tuple.Length || BinaryPrimitives.ReadUInt32LittleEndian(tuple[hoff..]) != relationOid) return default;
            ReadFromImages++;
            return new NewVersion(true, true, 0, tuple[hoff..]);
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
