using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// A transaction's end: COMMIT, ABORT, COMMIT_PREPARED or ABORT_PREPARED (xl_xact_commit /
/// xl_xact_abort and their optional parts, src/include/access/xact.h). Main data: xact_time i64,
/// then when xl_info has HAS_INFO an xinfo u32 and, in this order, each part xinfo announces:
/// dbinfo (dbId, tsId), subxacts (n, xids), relfilelocators (n, 12-byte locators), dropped stats
/// (n, 16-byte items), invalidations (n, 16-byte messages; commits only), two-phase (xid, then a
/// NUL-terminated GID when HAS_GID), origin (lsn u64, timestamp i64; unaligned).
/// </summary>
public readonly ref struct XactFinish
{
    public byte Opcode { get; init; }
    /// <summary>Microseconds since 2000-01-01 00:00 UTC.</summary>
    public long XactTime { get; init; }
    public uint Xinfo { get; init; }
    public uint DbId { get; init; }
    public uint TsId { get; init; }
    public XidArray Subxacts { get; init; }
    /// <summary>Files to drop: of dropped or rewritten relations at commit, of created ones at abort.</summary>
    public RelFileLocatorArray RelFileLocators { get; init; }
    public DroppedStatsArray DroppedStats { get; init; }
    public InvalidationMessages Invalidations { get; init; }
    /// <summary>For the *_PREPARED kinds: the prepared transaction's xid (xl_xid is 0 then).</summary>
    public uint TwoPhaseXid { get; init; }
    public ReadOnlySpan<byte> Gid { get; init; }
    public Lsn OriginLsn { get; init; }
    public long OriginTimestamp { get; init; }

    public bool IsCommit => Opcode is XactOpcodes.Commit or XactOpcodes.CommitPrepared;
    public bool IsPrepared => Opcode is XactOpcodes.CommitPrepared or XactOpcodes.AbortPrepared;
    public bool HasOrigin => (Xinfo & XactOpcodes.XinfoHasOrigin) != 0;

    /// <summary>The transaction this record ends: the two-phase xid for prepared ones, else xl_xid.</summary>
    public uint TransactionId(WalRecord record) => IsPrepared ? TwoPhaseXid : record.Xid;

    public static XactFinish Parse(WalRecord record)
    {
        var op = (byte)(record.Info & XactOpcodes.OpMask);
        if (record.Rmgr != RmgrId.Transaction || op is not (XactOpcodes.Commit or XactOpcodes.Abort or XactOpcodes.CommitPrepared or XactOpcodes.AbortPrepared))
            TypedRecordGuard.Expect(record, RmgrId.Transaction, XactOpcodes.Commit);
        var isCommit = op is XactOpcodes.Commit or XactOpcodes.CommitPrepared;
        var main = new DataCursor(record, record.MainData, isCommit ? "xl_xact_commit" : "xl_xact_abort");
        var time = main.I64();
        var xinfo = (record.Info & XactOpcodes.HasInfo) != 0 ? main.U32() : 0;

        uint db = 0, ts = 0;
        if ((xinfo & XactOpcodes.XinfoHasDbInfo) != 0)
        {
            db = main.U32();
            ts = main.U32();
        }

        var subxacts = (xinfo & XactOpcodes.XinfoHasSubxacts) != 0 ? main.TakeArray(main.I32(), 4) : default;
        var rels = (xinfo & XactOpcodes.XinfoHasRelFileLocators) != 0 ? main.TakeArray(main.I32(), RelFileLocator.Size) : default;
        var stats = (xinfo & XactOpcodes.XinfoHasDroppedStats) != 0 ? main.TakeArray(main.I32(), DroppedStatsArray.ItemSize) : default;
        var invals = isCommit && (xinfo & XactOpcodes.XinfoHasInvals) != 0 ? main.TakeArray(main.I32(), InvalidationMessages.MessageSize) : default;

        uint twoPhaseXid = 0;
        ReadOnlySpan<byte> gid = default;
        if ((xinfo & XactOpcodes.XinfoHasTwoPhase) != 0)
        {
            twoPhaseXid = main.U32();
            if ((xinfo & XactOpcodes.XinfoHasGid) != 0) gid = main.CString();
        }

        ulong originLsn = 0;
        long originTime = 0;
        if ((xinfo & XactOpcodes.XinfoHasOrigin) != 0)
        {
            originLsn = main.U64();
            originTime = main.I64();
        }

        return new XactFinish
        {
            Opcode = op,
            XactTime = time,
            Xinfo = xinfo,
            DbId = db,
            TsId = ts,
            Subxacts = new XidArray(subxacts),
            RelFileLocators = new RelFileLocatorArray(rels),
            DroppedStats = new DroppedStatsArray(stats),
            Invalidations = new InvalidationMessages(invals),
            TwoPhaseXid = twoPhaseXid,
            Gid = gid,
            OriginLsn = new Lsn(originLsn),
            OriginTimestamp = originTime,
        };
    }
}
