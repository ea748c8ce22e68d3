using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>Transaction INVALIDATION (xl_xact_invals: nmsgs i32, messages): cache invalidations in the middle of a transaction.</summary>
public readonly ref struct XactInvalidations
{
    public InvalidationMessages Messages { get; init; }

    public static XactInvalidations Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Transaction, XactOpcodes.Invalidations, XactOpcodes.OpMask);
        var main = new DataCursor(record, record.MainData, "xl_xact_invals");
        var count = main.I32();
        return new XactInvalidations { Messages = new InvalidationMessages(main.TakeArray(count, InvalidationMessages.MessageSize)) };
    }
}
