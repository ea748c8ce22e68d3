using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Heap LOCK and Heap2 LOCK_UPDATED (xl_heap_lock / xl_heap_lock_updated, 8 bytes: xmax u32,
/// offnum u16, infobits u8, flags u8): a row lock on block 0; no row change.
/// </summary>
public readonly record struct HeapLock(uint Xmax, ushort Offnum, byte InfobitsSet, byte Flags, RelFileLocator Relation, uint BlockNumber)
{
    public static HeapLock Parse(WalRecord record)
    {
        if (record.Rmgr == RmgrId.Heap2) TypedRecordGuard.Expect(record, RmgrId.Heap2, HeapOpcodes.Heap2LockUpdated);
        else TypedRecordGuard.Expect(record, RmgrId.Heap, HeapOpcodes.Lock);
        var main = new DataCursor(record, record.MainData, "xl_heap_lock");
        var xmax = main.U32();
        var offnum = main.U16();
        var infobits = main.U8();
        var flags = main.U8();
        ref readonly var block = ref record.Block(TypedRecordGuard.RequireBlock(record, 0));
        return new HeapLock(xmax, offnum, infobits, flags, block.Relation, block.BlockNumber);
    }
}
