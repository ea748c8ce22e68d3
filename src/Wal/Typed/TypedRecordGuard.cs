using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

internal static class TypedRecordGuard
{
    /// <summary>Parsing a record as the wrong kind is a programming error, not bad input.</summary>
    public static void Expect(WalRecord record, RmgrId rmgr, byte opcode, byte mask = 0x70)
    {
        if (record.Rmgr != rmgr || (record.Info & mask) != opcode)
            throw new ArgumentException($"record at {record.Lsn} is {record.RmgrName} {record.RecordType}, not the expected kind", nameof(record));
    }

    public static int RequireBlock(WalRecord record, int blockId)
    {
        var index = record.IndexOfBlockId(blockId);
        if (index < 0) throw record.Error(WalErrorKind.BadRecordData, $"block reference {blockId} is missing");
        return index;
    }
}
