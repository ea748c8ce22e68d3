using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Heap DELETE (xl_heap_delete, 8 bytes: xmax u32, offnum u16, infobits u8, flags u8), followed in
/// the main data by the old row or key when the flags say so. Block 0 is the page.
/// </summary>
public readonly ref struct HeapDelete
{
    public uint Xmax { get; init; }
    public ushort Offnum { get; init; }
    public byte InfobitsSet { get; init; }
    public byte Flags { get; init; }
    public RelFileLocator Relation { get; init; }
    public uint BlockNumber { get; init; }
    /// <summary>The old row (REPLICA IDENTITY FULL) or key; not present otherwise.</summary>
    public HeapTupleImage OldTuple { get; init; }

    public bool ContainsOldTuple => (Flags & HeapOpcodes.DeleteContainsOldTuple) != 0;
    public bool ContainsOldKey => (Flags & HeapOpcodes.DeleteContainsOldKey) != 0;
    /// <summary>Kills a speculative insertion that lost its conflict; not a user DELETE.</summary>
    public bool IsSuperDelete => (Flags & HeapOpcodes.DeleteIsSuper) != 0;
    public bool IsPartitionMove => (Flags & HeapOpcodes.DeleteIsPartitionMove) != 0;

    public static HeapDelete Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Heap, HeapOpcodes.Delete);
        var main = new DataCursor(record, record.MainData, "xl_heap_delete");
        var xmax = main.U32();
        var offnum = main.U16();
        var infobits = main.U8();
        var flags = main.U8();
        var block = TypedRecordGuard.RequireBlock(record, 0);
        ref readonly var reference = ref record.Block(block);
        var hasOld = (flags & (HeapOpcodes.DeleteContainsOldTuple | HeapOpcodes.DeleteContainsOldKey)) != 0;
        return new HeapDelete
        {
            Xmax = xmax,
            Offnum = offnum,
            InfobitsSet = infobits,
            Flags = flags,
            Relation = reference.Relation,
            BlockNumber = reference.BlockNumber,
            OldTuple = hasOld ? HeapTupleImage.Read(record, main.Rest, "old tuple of delete") : default,
        };
    }
}
