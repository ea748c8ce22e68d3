namespace DataSync.Wal.Typed;

/// <summary>Heap and Heap2 opcodes and flag bits (src/include/access/heapam_xlog.h).</summary>
public static class HeapOpcodes
{
    public const byte OpMask = 0x70;
    /// <summary>The tuple is the first on a freshly initialised page.</summary>
    public const byte InitPage = 0x80;

    public const byte Insert = 0x00;
    public const byte Delete = 0x10;
    public const byte Update = 0x20;
    public const byte Truncate = 0x30;
    public const byte HotUpdate = 0x40;
    public const byte Confirm = 0x50;
    public const byte Lock = 0x60;
    public const byte Inplace = 0x70;

    public const byte Heap2Rewrite = 0x00;
    public const byte Heap2PruneOnAccess = 0x10;
    public const byte Heap2PruneVacuumScan = 0x20;
    public const byte Heap2PruneVacuumCleanup = 0x30;
    public const byte Heap2Visible = 0x40;
    public const byte Heap2MultiInsert = 0x50;
    public const byte Heap2LockUpdated = 0x60;
    public const byte Heap2NewCid = 0x70;

    // XLH_INSERT_*
    public const byte InsertAllVisibleCleared = 0x01;
    public const byte InsertLastInMulti = 0x02;
    public const byte InsertIsSpeculative = 0x04;
    public const byte InsertContainsNewTuple = 0x08;
    public const byte InsertOnToastRelation = 0x10;
    public const byte InsertAllFrozenSet = 0x20;

    // XLH_DELETE_*
    public const byte DeleteAllVisibleCleared = 0x01;
    public const byte DeleteContainsOldTuple = 0x02;
    public const byte DeleteContainsOldKey = 0x04;
    public const byte DeleteIsSuper = 0x08;
    public const byte DeleteIsPartitionMove = 0x10;

    // XLH_UPDATE_*
    public const byte UpdateOldAllVisibleCleared = 0x01;
    public const byte UpdateNewAllVisibleCleared = 0x02;
    public const byte UpdateContainsOldTuple = 0x04;
    public const byte UpdateContainsOldKey = 0x08;
    public const byte UpdateContainsNewTuple = 0x10;
    public const byte UpdatePrefixFromOld = 0x20;
    public const byte UpdateSuffixFromOld = 0x40;
}
