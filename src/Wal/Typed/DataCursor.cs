using System.Buffers.Binary;
using DataSync.Wal.Records;

namespace DataSync.Wal.Typed;

/// <summary>
/// Bounds-checked little-endian reads over a record's main or block data. Reading past the end
/// throws a <see cref="WalFormatException"/> (BadRecordData) that names the record, never an
/// out-of-range access.
/// </summary>
internal ref struct DataCursor(WalRecord record, ReadOnlySpan<byte> data, string what)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private readonly WalRecord _record = record;
    private readonly string _what = what;

    public int Position { get; private set; }
    public readonly int Remaining => _data.Length - Position;
    public readonly ReadOnlySpan<byte> Rest => _data[Position..];

    public byte U8() => Take(1)[0];
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));
    public RelFileLocator Locator() => RelFileLocator.Read(Take(RelFileLocator.Size));

    public void Skip(int count) => Take(count);

    /// <summary>Moves to the next multiple of <paramref name="alignment"/> counted from the start of the data.</summary>
    public void AlignTo(int alignment)
    {
        var aligned = (Position + alignment - 1) / alignment * alignment;
        if (aligned > _data.Length) throw Short(aligned - Position);
        Position = aligned;
    }

    public ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > Remaining) throw Short(count);
        var slice = _data.Slice(Position, count);
        Position += count;
        return slice;
    }

    /// <summary>An array of <paramref name="count"/> items of <paramref name="itemSize"/> bytes, with the count checked against what is left.</summary>
    public ReadOnlySpan<byte> TakeArray(int count, int itemSize)
    {
        if (count < 0 || (long)count * itemSize > Remaining)
            throw _record.Error(WalErrorKind.BadRecordData, $"{_what}: {count} items of {itemSize} bytes do not fit in the {Remaining} bytes left");
        return Take(count * itemSize);
    }

    /// <summary>A NUL-terminated string; the bytes before the NUL.</summary>
    public ReadOnlySpan<byte> CString()
    {
        var end = Rest.IndexOf((byte)0);
        if (end < 0) throw _record.Error(WalErrorKind.BadRecordData, $"{_what}: string without a terminating NUL");
        var text = Take(end);
        Skip(1);
        return text;
    }

    private readonly WalFormatException Short(int wanted) =>
        _record.Error(WalErrorKind.BadRecordData, $"{_what}: needs {wanted} more bytes at offset {Position}, {Remaining} left");
}
