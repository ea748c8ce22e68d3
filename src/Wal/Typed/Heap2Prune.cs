using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Heap2 PRUNE_ON_ACCESS / PRUNE_VACUUM_SCAN / PRUNE_VACUUM_CLEANUP (xl_heap_prune: reason u8,
/// flags u8, then the conflict-horizon xid u32 when flag 0x08 is set). The page changes are sub-records in
/// block 0's data; they are physical and left unparsed.
/// </summary>
public readonly record struct Heap2Prune(byte Opcode, byte Reason, byte Flags, uint SnapshotConflictHorizon, RelFileLocator Relation, uint BlockNumber)
{
    public const byte HasConflictHorizon = 0x08;

    public static Heap2Prune Parse(WalRecord record)
    {
        var op = (byte)(record.Info & HeapOpcodes.OpMask);
        if (record.Rmgr != RmgrId.Heap2 || op is not (HeapOpcodes.Heap2PruneOnAccess or HeapOpcodes.Heap2PruneVacuumScan or HeapOpcodes.Heap2PruneVacuumCleanup))
            TypedRecordGuard.Expect(record, RmgrId.Heap2, HeapOpcodes.Heap2PruneOnAccess);
        var main = new DataCursor(record, record.MainData, "xl_heap_prune");
        var reason = main.U8();
        var flags = main.U8();
        var horizon = (flags & HasConflictHorizon) != 0 ? main.U32() : 0;
        ref readonly var block = ref record.Block(TypedRecordGuard.RequireBlock(record, 0));
        return new Heap2Prune(op, reason, flags, horizon, block.Relation, block.BlockNumber);
    }
}
