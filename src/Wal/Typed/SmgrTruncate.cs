using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>Storage TRUNCATE (xl_smgr_truncate: new length in blocks u32, relation locator, flags i32: 1 heap, 2 visibility map, 4 free-space map). Physical; no row data.</summary>
public readonly record struct SmgrTruncate(uint BlockCount, RelFileLocator Relation, int Flags)
{
    public const byte Opcode = 0x20;

    public static SmgrTruncate Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Storage, Opcode, 0xF0);
        var main = new DataCursor(record, record.MainData, "xl_smgr_truncate");
        var blocks = main.U32();
        var relation = main.Locator();
        var flags = main.I32();
        return new SmgrTruncate(blocks, relation, flags);
    }
}
