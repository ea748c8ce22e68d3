using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Transaction PREPARE: xl_xact_prepare (72 bytes: magic, total_len, xid, database, prepared_at
/// i64, owner, nsubxacts, ncommitrels, nabortrels, ncommitstats, nabortstats, ninvalmsgs,
/// initfileinval bool, pad, gidlen u16, origin_lsn u64, origin_timestamp i64), then, each padded
/// to 8 bytes: GID, subxact xids, commit and abort relfilelocators, commit and abort stats items,
/// invalidation messages; two-phase rmgr records follow and are not parsed.
/// </summary>
public readonly ref struct XactPrepare
{
    public const uint Magic = 0x57F94534;
    public const int FixedSize = 72;

    public uint Xid { get; init; }
    public uint Database { get; init; }
    public long PreparedAt { get; init; }
    public uint Owner { get; init; }
    public bool InitFileInval { get; init; }
    public ReadOnlySpan<byte> Gid { get; init; }
    public XidArray Subxacts { get; init; }
    public RelFileLocatorArray CommitRelFileLocators { get; init; }
    public RelFileLocatorArray AbortRelFileLocators { get; init; }
    public DroppedStatsArray CommitStats { get; init; }
    public DroppedStatsArray AbortStats { get; init; }
    public InvalidationMessages Invalidations { get; init; }
    public Lsn OriginLsn { get; init; }
    public long OriginTimestamp { get; init; }

    public static XactPrepare Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Transaction, XactOpcodes.Prepare, XactOpcodes.OpMask);
        var main = new DataCursor(record, record.MainData, "xl_xact_prepare");
        var magic = main.U32();
        if (magic != Magic) throw record.Error(WalErrorKind.BadRecordData, $"prepare record magic is 0x{magic:X8}, expected 0x{Magic:X8}");
        main.Skip(4); // total_len of the state file
        var xid = main.U32();
        var database = main.U32();
        var preparedAt = main.I64();
        var owner = main.U32();
        var nsubxacts = main.I32();
        var ncommitrels = main.I32();
        var nabortrels = main.I32();
        var ncommitstats = main.I32();
        var nabortstats = main.I32();
        var ninval = main.I32();
        var initFileInval = main.U8() != 0;
        main.Skip(1);
        var gidLength = main.U16();
        var originLsn = main.U64();
        var originTime = main.I64();

        var gidBytes = main.Take(gidLength);
        main.AlignTo(8);
        var gid = gidBytes.IndexOf((byte)0) is var nul and >= 0 ? gidBytes[..nul] : gidBytes;
        var subxacts = main.TakeArray(nsubxacts, 4);
        main.AlignTo(8);
        var commitRels = main.TakeArray(ncommitrels, RelFileLocator.Size);
        main.AlignTo(8);
        var abortRels = main.TakeArray(nabortrels, RelFileLocator.Size);
        main.AlignTo(8);
        var commitStats = main.TakeArray(ncommitstats, DroppedStatsArray.ItemSize);
        main.AlignTo(8);
        var abortStats = main.TakeArray(nabortstats, DroppedStatsArray.ItemSize);
        main.AlignTo(8);
        var invals = main.TakeArray(ninval, InvalidationMessages.MessageSize);

        return new XactPrepare
        {
            Xid = xid,
            Database = database,
            PreparedAt = preparedAt,
            Owner = owner,
            InitFileInval = initFileInval,
            Gid = gid,
            Subxacts = new XidArray(subxacts),
            CommitRelFileLocators = new RelFileLocatorArray(commitRels),
            AbortRelFileLocators = new RelFileLocatorArray(abortRels),
            CommitStats = new DroppedStatsArray(commitStats),
            AbortStats = new DroppedStatsArray(abortStats),
            Invalidations = new InvalidationMessages(invals),
            OriginLsn = new Lsn(originLsn),
            OriginTimestamp = originTime,
        };
    }
}
