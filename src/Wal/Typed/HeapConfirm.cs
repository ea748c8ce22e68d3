using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>Heap CONFIRM (xl_heap_confirm: offnum u16): the speculative insertion at that slot of block 0 is final.</summary>
public readonly record struct HeapConfirm(ushort Offnum, RelFileLocator Relation, uint BlockNumber)
{
    public static HeapConfirm Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Heap, HeapOpcodes.Confirm);
        var main = new DataCursor(record, record.MainData, "xl_heap_confirm");
        var offnum = main.U16();
        ref readonly var block = ref record.Block(TypedRecordGuard.RequireBlock(record, 0));
        return new HeapConfirm(offnum, block.Relation, block.BlockNumber);
    }
}
