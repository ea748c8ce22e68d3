using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>Heap2 VISIBLE (xl_heap_visible: snapshotConflictHorizon u32, flags u8). Block 0 is the visibility-map page, block 1 the heap page.</summary>
public readonly record struct Heap2Visible(uint SnapshotConflictHorizon, byte Flags, RelFileLocator HeapRelation, uint HeapBlock)
{
    public static Heap2Visible Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Heap2, HeapOpcodes.Heap2Visible);
        var main = new DataCursor(record, record.MainData, "xl_heap_visible");
        var horizon = main.U32();
        var flags = main.U8();
        var heap = record.IndexOfBlockId(1);
        return heap >= 0
            ? new Heap2Visible(horizon, flags, record.Block(heap).Relation, record.Block(heap).BlockNumber)
            : new Heap2Visible(horizon, flags, default, 0);
    }
}
