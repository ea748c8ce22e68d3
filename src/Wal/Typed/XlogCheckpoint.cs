using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// XLOG CHECKPOINT_SHUTDOWN / CHECKPOINT_ONLINE: the 88-byte CheckPoint struct
/// (src/include/catalog/pg_control.h): redo u64 @0, this/prev timeline @8/@12, full_page_writes @16,
/// wal_level i32 @20, nextXid u64 @24, nextOid @32, nextMulti @36, nextMultiOffset @40, oldestXid
/// @44, oldestXidDB @48, oldestMulti @52, oldestMultiDB @56, time i64 (Unix seconds) @64,
/// oldestCommitTsXid @72, newestCommitTsXid @76, oldestActiveXid @80.
/// </summary>
public readonly record struct XlogCheckpoint(
    bool IsShutdown, Lsn Redo, uint ThisTimeline, uint PrevTimeline, bool FullPageWrites, int WalLevel,
    ulong NextFullXid, uint NextOid, uint OldestXid, long Time, uint OldestActiveXid)
{
    public const byte Shutdown = 0x00;
    public const byte Online = 0x10;
    public const byte Switch = 0x40;
    public const int Size = 88;

    public uint NextXid => (uint)NextFullXid;

    public static XlogCheckpoint Parse(WalRecord record)
    {
        var op = record.RmgrInfo;
        if (op != Online) TypedRecordGuard.Expect(record, RmgrId.Xlog, Shutdown, 0xF0);
        else TypedRecordGuard.Expect(record, RmgrId.Xlog, Online, 0xF0);
        var main = new DataCursor(record, record.MainData, "CheckPoint");
        if (main.Remaining < Size) throw record.Error(WalErrorKind.BadRecordData, $"checkpoint has {main.Remaining} bytes, expected {Size}");
        var redo = main.U64();
        var thisTli = main.U32();
        var prevTli = main.U32();
        var fpw = main.U8() != 0;
        main.Skip(3);
        var walLevel = main.I32();
        var nextXid = main.U64();
        var nextOid = main.U32();
        main.Skip(8); // nextMulti, nextMultiOffset
        var oldestXid = main.U32();
        main.Skip(16); // oldestXidDB, oldestMulti, oldestMultiDB, pad
        var time = main.I64();
        main.Skip(8); // commit-ts horizon
        var oldestActive = main.U32();
        return new XlogCheckpoint(op == Shutdown, new Lsn(redo), thisTli, prevTli, fpw, walLevel, nextXid, nextOid, oldestXid, time, oldestActive);
    }

    /// <summary>XLOG SWITCH: the rest of the segment is unused.</summary>
    public static bool IsSwitch(WalRecord record) => record.Rmgr == RmgrId.Xlog && record.RmgrInfo == Switch;
}
