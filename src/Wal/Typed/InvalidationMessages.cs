using System.Buffers.Binary;

namespace DataSync.Wal.Typed;

/// <summary>
/// A run of 16-byte shared-invalidation messages (SharedInvalidationMessage,
/// src/include/storage/sinval.h). The first byte says the kind: a syscache id (>= 0) or -1 catalog,
/// -2 relcache, -3 smgr, -4 relmap, -5 snapshot, -6 relsync (new in 18).
/// </summary>
public readonly ref struct InvalidationMessages(ReadOnlySpan<byte> bytes)
{
    public const int MessageSize = 16;
    public const sbyte Catalog = -1;
    public const sbyte Relcache = -2;
    public const sbyte Smgr = -3;
    public const sbyte Relmap = -4;
    public const sbyte Snapshot = -5;
    public const sbyte RelSync = -6;

    public ReadOnlySpan<byte> Bytes { get; } = bytes;
    public int Count => Bytes.Length / MessageSize;

    public sbyte Kind(int index) => (sbyte)Bytes[index * MessageSize];

    /// <summary>The database id at offset 4 (every kind but smgr has one there).</summary>
    public uint DbId(int index) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.Slice(index * MessageSize + 4, 4));

    /// <summary>Offset 8: the relation OID of relcache / snapshot / relsync messages, the catalog OID of catalog ones, the hash of catcache ones.</summary>
    public uint ObjectId(int index) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.Slice(index * MessageSize + 8, 4));
}
