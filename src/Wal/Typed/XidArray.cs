using System.Buffers.Binary;

namespace DataSync.Wal.Typed;

/// <summary>A run of little-endian u32 transaction ids inside a record.</summary>
public readonly ref struct XidArray(ReadOnlySpan<byte> bytes)
{
    public ReadOnlySpan<byte> Bytes { get; } = bytes;
    public int Count => Bytes.Length / 4;
    public uint this[int index] => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.Slice(index * 4, 4));

    public uint[] ToArray()
    {
        var result = new uint[Count];
        for (var i = 0; i < result.Length; i++) result[i] = this[i];
        return result;
    }
}
