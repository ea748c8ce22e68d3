using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>Transaction ASSIGNMENT (xl_xact_assignment: xtop u32, nsubxacts i32, xsub u32[]): subtransactions of a top-level xid.</summary>
public readonly ref struct XactAssignment
{
    public uint TopXid { get; init; }
    public XidArray Subxacts { get; init; }

    public static XactAssignment Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Transaction, XactOpcodes.Assignment, XactOpcodes.OpMask);
        var main = new DataCursor(record, record.MainData, "xl_xact_assignment");
        var top = main.U32();
        var count = main.I32();
        return new XactAssignment { TopXid = top, Subxacts = new XidArray(main.TakeArray(count, 4)) };
    }
}
