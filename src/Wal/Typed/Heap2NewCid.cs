using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Heap2 NEW_CID (xl_heap_new_cid, 34 bytes: top xid, cmin, cmax, combocid u32; target relation
/// (12); target tid = block hi u16, block lo u16, offnum u16). Precedes catalog tuple changes
/// under wal_level=logical.
/// </summary>
public readonly record struct Heap2NewCid(uint TopXid, uint Cmin, uint Cmax, uint Combocid, RelFileLocator Target, uint TargetBlock, ushort TargetOffnum)
{
    public static Heap2NewCid Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Heap2, HeapOpcodes.Heap2NewCid);
        var main = new DataCursor(record, record.MainData, "xl_heap_new_cid");
        var top = main.U32();
        var cmin = main.U32();
        var cmax = main.U32();
        var combo = main.U32();
        var target = main.Locator();
        var high = main.U16();
        var low = main.U16();
        var offnum = main.U16();
        return new Heap2NewCid(top, cmin, cmax, combo, target, ((uint)high << 16) | low, offnum);
    }
}
