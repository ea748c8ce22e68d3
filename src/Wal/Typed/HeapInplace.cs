using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Heap INPLACE, PostgreSQL 18 layout (xl_heap_inplace: offnum u16, 2 pad, dbId u32, tsId u32,
/// relcacheInitFileInval bool, 3 pad, nmsgs i32, then 16-byte invalidation messages). Block 0's data
/// is the overwritten tuple's column data. A non-transactional catalog overwrite, not a row change.
/// </summary>
public readonly ref struct HeapInplace
{
    public ushort Offnum { get; init; }
    public uint DbId { get; init; }
    public uint TsId { get; init; }
    public bool RelcacheInitFileInval { get; init; }
    public InvalidationMessages Invalidations { get; init; }
    public RelFileLocator Relation { get; init; }
    public uint BlockNumber { get; init; }
    /// <summary>The new column data (from t_hoff on); empty when a full-page image replaced it.</summary>
    public ReadOnlySpan<byte> NewData { get; init; }

    public static HeapInplace Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Heap, HeapOpcodes.Inplace);
        var main = new DataCursor(record, record.MainData, "xl_heap_inplace");
        var offnum = main.U16();
        main.Skip(2);
        var db = main.U32();
        var ts = main.U32();
        var relcache = main.U8() != 0;
        main.Skip(3);
        var count = main.I32();
        var messages = main.TakeArray(count, InvalidationMessages.MessageSize);
        var index = TypedRecordGuard.RequireBlock(record, 0);
        ref readonly var block = ref record.Block(index);
        return new HeapInplace
        {
            Offnum = offnum,
            DbId = db,
            TsId = ts,
            RelcacheInitFileInval = relcache,
            Invalidations = new InvalidationMessages(messages),
            Relation = block.Relation,
            BlockNumber = block.BlockNumber,
            NewData = block.HasData ? record.BlockData(index) : default,
        };
    }
}
