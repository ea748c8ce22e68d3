using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Heap UPDATE and HOT_UPDATE (xl_heap_update, 14 bytes: old xmax u32, old offnum u16, old infobits
/// u8, flags u8, new xmax u32, new offnum u16), then the old row or key in the main data when the
/// flags say so. Block 0 receives the new version; its data is [prefix length u16][suffix length
/// u16], the tuple header and the new tuple's bytes minus the shared prefix/suffix. Block 1, when
/// present, is the old page.
/// </summary>
public readonly ref struct HeapUpdate
{
    public bool IsHot { get; init; }
    public bool InitPage { get; init; }
    public uint OldXmax { get; init; }
    public ushort OldOffnum { get; init; }
    public byte OldInfobitsSet { get; init; }
    public byte Flags { get; init; }
    public uint NewXmax { get; init; }
    public ushort NewOffnum { get; init; }
    public RelFileLocator Relation { get; init; }
    public uint NewBlockNumber { get; init; }
    public uint OldBlockNumber { get; init; }
    /// <summary>Bytes of column data shared with the start of the old tuple and left out (catalogs only).</summary>
    public ushort PrefixLength { get; init; }
    public ushort SuffixLength { get; init; }
    public HeapTupleImage NewTuple { get; init; }
    public HeapTupleImage OldTuple { get; init; }

    public bool ContainsNewTuple => (Flags & HeapOpcodes.UpdateContainsNewTuple) != 0;
    public bool ContainsOldTuple => (Flags & HeapOpcodes.UpdateContainsOldTuple) != 0;
    public bool ContainsOldKey => (Flags & HeapOpcodes.UpdateContainsOldKey) != 0;

    public static HeapUpdate Parse(WalRecord record)
    {
        var op = record.Info & HeapOpcodes.OpMask;
        if (op != HeapOpcodes.HotUpdate) TypedRecordGuard.Expect(record, RmgrId.Heap, HeapOpcodes.Update);
        else TypedRecordGuard.Expect(record, RmgrId.Heap, HeapOpcodes.HotUpdate);

        var main = new DataCursor(record, record.MainData, "xl_heap_update");
        var oldXmax = main.U32();
        var oldOffnum = main.U16();
        var oldInfobits = main.U8();
        var flags = main.U8();
        var newXmax = main.U32();
        var newOffnum = main.U16();
        var hasOld = (flags & (HeapOpcodes.UpdateContainsOldTuple | HeapOpcodes.UpdateContainsOldKey)) != 0;
        var oldTuple = hasOld ? HeapTupleImage.Read(record, main.Rest, "old tuple of update") : default;

        var newIndex = TypedRecordGuard.RequireBlock(record, 0);
        ref readonly var newBlock = ref record.Block(newIndex);
        var oldIndex = record.IndexOfBlockId(1);
        var oldBlockNumber = oldIndex >= 0 ? record.Block(oldIndex).BlockNumber : newBlock.BlockNumber;

        ushort prefix = 0, suffix = 0;
        HeapTupleImage newTuple = default;
        if (newBlock.HasData)
        {
            var data = new DataCursor(record, record.BlockData(newIndex), "new tuple of update");
            if ((flags & HeapOpcodes.UpdatePrefixFromOld) != 0) prefix = data.U16();
            if ((flags & HeapOpcodes.UpdateSuffixFromOld) != 0) suffix = data.U16();
            newTuple = HeapTupleImage.Read(record, data.Rest, "new tuple of update");
        }

        return new HeapUpdate
        {
            IsHot = op == HeapOpcodes.HotUpdate,
            InitPage = (record.Info & HeapOpcodes.InitPage) != 0,
            OldXmax = oldXmax,
            OldOffnum = oldOffnum,
            OldInfobitsSet = oldInfobits,
            Flags = flags,
            NewXmax = newXmax,
            NewOffnum = newOffnum,
            Relation = newBlock.Relation,
            NewBlockNumber = newBlock.BlockNumber,
            OldBlockNumber = oldBlockNumber,
            PrefixLength = prefix,
            SuffixLength = suffix,
            NewTuple = newTuple,
            OldTuple = oldTuple,
        };
    }
}
