using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>Storage CREATE (xl_smgr_create: relation locator, fork i32): a new relation file, e.g. the new relfilenode of TRUNCATE or VACUUM FULL.</summary>
public readonly record struct SmgrCreate(RelFileLocator Relation, ForkNumber Fork)
{
    public const byte Opcode = 0x10;

    public static SmgrCreate Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Storage, Opcode, 0xF0);
        var main = new DataCursor(record, record.MainData, "xl_smgr_create");
        var relation = main.Locator();
        var fork = main.I32();
        return new SmgrCreate(relation, (ForkNumber)fork);
    }
}
