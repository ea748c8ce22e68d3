using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Standby RUNNING_XACTS (xl_running_xacts: xcnt i32, subxcnt i32, subxid_overflow bool, 3 pad,
/// nextXid u32, oldestRunningXid u32, latestCompletedXid u32, then xcnt top-level xids followed by
/// subxcnt subxact xids): the transactions in progress at that point, where decoding can start.
/// </summary>
public readonly ref struct StandbyRunningXacts
{
    public const byte Opcode = 0x10;

    public bool SubxidOverflow { get; init; }
    public uint NextXid { get; init; }
    public uint OldestRunningXid { get; init; }
    public uint LatestCompletedXid { get; init; }
    public XidArray Xids { get; init; }
    public XidArray Subxids { get; init; }

    public static StandbyRunningXacts Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Standby, Opcode, 0xF0);
        var main = new DataCursor(record, record.MainData, "xl_running_xacts");
        var xcnt = main.I32();
        var subxcnt = main.I32();
        var overflow = main.U8() != 0;
        main.Skip(3);
        var next = main.U32();
        var oldest = main.U32();
        var latest = main.U32();
        var xids = main.TakeArray(xcnt, 4);
        var subxids = main.TakeArray(subxcnt, 4);
        return new StandbyRunningXacts
        {
            SubxidOverflow = overflow,
            NextXid = next,
            OldestRunningXid = oldest,
            LatestCompletedXid = latest,
            Xids = new XidArray(xids),
            Subxids = new XidArray(subxids),
        };
    }
}
