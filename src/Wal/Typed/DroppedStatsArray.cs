using System.Buffers.Binary;

namespace DataSync.Wal.Typed;

/// <summary>
/// Dropped-statistics items of a commit, abort or prepare (xl_xact_stats_item, 16 bytes in 18:
/// kind i32, dboid u32, objid low u32, objid high u32).
/// </summary>
public readonly ref struct DroppedStatsArray(ReadOnlySpan<byte> bytes)
{
    public const int ItemSize = 16;
    public ReadOnlySpan<byte> Bytes { get; } = bytes;
    public int Count => Bytes.Length / ItemSize;
    public int Kind(int index) => BinaryPrimitives.ReadInt32LittleEndian(Bytes.Slice(index * ItemSize, 4));
    public uint DbOid(int index) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.Slice(index * ItemSize + 4, 4));
    public ulong ObjectId(int index) =>
        BinaryPrimitives.ReadUInt32LittleEndian(Bytes.Slice(index * ItemSize + 8, 4))
        | ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(Bytes.Slice(index * ItemSize + 12, 4)) << 32);
}
