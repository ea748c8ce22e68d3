using System.Buffers.Binary;
using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>Standby LOCK (xl_standby_locks: nlocks i32, then {xid, dbOid, relOid} u32 triples): AccessExclusive locks taken.</summary>
public readonly ref struct StandbyLock
{
    public const byte Opcode = 0x00;
    private const int LockSize = 12;

    public ReadOnlySpan<byte> LockBytes { get; init; }
    public int Count => LockBytes.Length / LockSize;
    public uint Xid(int index) => BinaryPrimitives.ReadUInt32LittleEndian(LockBytes.Slice(index * LockSize, 4));
    public uint DbOid(int index) => BinaryPrimitives.ReadUInt32LittleEndian(LockBytes.Slice(index * LockSize + 4, 4));
    public uint RelOid(int index) => BinaryPrimitives.ReadUInt32LittleEndian(LockBytes.Slice(index * LockSize + 8, 4));

    public static StandbyLock Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Standby, Opcode, 0xF0);
        var main = new DataCursor(record, record.MainData, "xl_standby_locks");
        var count = main.I32();
        return new StandbyLock { LockBytes = main.TakeArray(count, LockSize) };
    }
}
