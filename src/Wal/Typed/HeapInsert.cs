using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Heap INSERT (xl_heap_insert, 3 bytes: offnum u16, flags u8). Block 0 is the target page; its
/// data, when present, is the new tuple (it is absent when a full-page image replaced it and the
/// relation is not logically logged).
/// </summary>
public readonly ref struct HeapInsert
{
    public ushort Offnum { get; init; }
    public byte Flags { get; init; }
    public bool InitPage { get; init; }
    public RelFileLocator Relation { get; init; }
    public uint BlockNumber { get; init; }
    /// <summary>The new tuple; <see cref="HeapTupleImage.IsPresent"/> is false when the record carries none.</summary>
    public HeapTupleImage Tuple { get; init; }

    public bool IsSpeculative => (Flags & HeapOpcodes.InsertIsSpeculative) != 0;
    public bool ContainsNewTuple => (Flags & HeapOpcodes.InsertContainsNewTuple) != 0;
    public bool OnToastRelation => (Flags & HeapOpcodes.InsertOnToastRelation) != 0;

    public static HeapInsert Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Heap, HeapOpcodes.Insert);
        var main = new DataCursor(record, record.MainData, "xl_heap_insert");
        var offnum = main.U16();
        var flags = main.U8();
        var block = TypedRecordGuard.RequireBlock(record, 0);
        ref readonly var reference = ref record.Block(block);
        return new HeapInsert
        {
            Offnum = offnum,
            Flags = flags,
            InitPage = (record.Info & HeapOpcodes.InitPage) != 0,
            Relation = reference.Relation,
            BlockNumber = reference.BlockNumber,
            Tuple = reference.HasData ? HeapTupleImage.Read(record, record.BlockData(block), "inserted tuple") : default,
        };
    }
}
