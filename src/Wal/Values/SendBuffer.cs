using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// A growable byte buffer for building COPY BINARY data (big-endian). Field lengths are written as
/// placeholders and patched once the field is complete, since a value's send size is only known
/// after converting it.
/// </summary>
public sealed class SendBuffer(int initialCapacity = 256)
{
    private byte[] _bytes = new byte[Math.Max(16, initialCapacity)];

    public int Length { get; private set; }

    public ReadOnlySpan<byte> WrittenSpan => _bytes.AsSpan(0, Length);

    public ReadOnlyMemory<byte> WrittenMemory => _bytes.AsMemory(0, Length);

    public void Clear() => Length = 0;

    /// <summary>Drops everything written after the first <paramref name="length"/> bytes.</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
    }

    public byte[] ToArray() => WrittenSpan.ToArray();

    public Span<byte> Append(int count)
    {
        if (Length + count > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, Length + count));
        var span = _bytes.AsSpan(Length, count);
        Length += count;
        return span;
    }

    public void WriteByte(byte value) => Append(1)[0] = value;

    public void WriteBytes(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Append(bytes.Length));

    public void WriteInt16(short value) => BinaryPrimitives.WriteInt16BigEndian(Append(2), value);

    public void WriteUInt16(ushort value) => BinaryPrimitives.WriteUInt16BigEndian(Append(2), value);

    public void WriteInt32(int value) => BinaryPrimitives.WriteInt32BigEndian(Append(4), value);

    public void WriteUInt32(uint value) => BinaryPrimitives.WriteUInt32BigEndian(Append(4), value);

    public void WriteInt64(long value) => BinaryPrimitives.WriteInt64BigEndian(Append(8), value);

    /// <summary>Writes a 4-byte length placeholder and returns where it is, for <see cref="EndField"/>.</summary>
    public int BeginField()
    {
        var at = Length;
        Append(4);
        return at;
    }

    /// <summary>Sets the placeholder at <paramref name="lengthAt"/> to the number of bytes written since.</summary>
    public void EndField(int lengthAt) =>
        BinaryPrimitives.WriteInt32BigEndian(_bytes.AsSpan(lengthAt, 4), Length - lengthAt - 4);
}
