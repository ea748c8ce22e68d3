using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// RelMap UPDATE (xl_relmap_update: dbid u32 (0 = shared map), tsid u32, nbytes i32, then the whole
/// new pg_filenode.map image): a mapped catalog got a new relfilenode, effective at commit.
/// </summary>
public readonly ref struct RelMapUpdate
{
    public uint DbId { get; init; }
    public uint TsId { get; init; }
    public ReadOnlySpan<byte> MapFile { get; init; }

    public static RelMapUpdate Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.RelMap, 0x00, 0xF0);
        var main = new DataCursor(record, record.MainData, "xl_relmap_update");
        var db = main.U32();
        var ts = main.U32();
        var length = main.I32();
        return new RelMapUpdate { DbId = db, TsId = ts, MapFile = main.TakeArray(length, 1) };
    }
}
