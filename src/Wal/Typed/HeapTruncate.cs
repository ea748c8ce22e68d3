using System.Buffers.Binary;
using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;

namespace DataSync.Wal.Typed;

/// <summary>
/// Heap TRUNCATE (xl_heap_truncate: dbId u32, nrelids u32, flags u8, 3 pad bytes, relids u32[]),
/// written under wal_level=logical once per TRUNCATE statement. The ids are pg_class OIDs.
/// </summary>
public readonly ref struct HeapTruncate
{
    public const byte Cascade = 0x01;
    public const byte RestartSequences = 0x02;

    public uint DbId { get; init; }
    public byte Flags { get; init; }
    public ReadOnlySpan<byte> RelationIdBytes { get; init; }

    public int RelationCount => RelationIdBytes.Length / 4;
    public uint RelationId(int index) => BinaryPrimitives.ReadUInt32LittleEndian(RelationIdBytes.Slice(index * 4, 4));

    public static HeapTruncate Parse(WalRecord record)
    {
        TypedRecordGuard.Expect(record, RmgrId.Heap, HeapOpcodes.Truncate);
        var main = new DataCursor(record, record.MainData, "xl_heap_truncate");
        var db = main.U32();
        var count = main.I32();
        var flags = main.U8();
        main.Skip(3);
        return new HeapTruncate { DbId = db, Flags = flags, RelationIdBytes = main.TakeArray(count, 4) };
    }
}
