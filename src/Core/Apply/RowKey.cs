using System.Buffers.Binary;
using DataSync.Wal.Values;

namespace DataSync.Core.Apply;

/// <summary>
/// A row's replica-identity key as bytes with value equality: its key fields in COPY BINARY form (each a
/// 32-bit big-endian length, -1 for NULL, then the send-form bytes), so a staged origin key is written as is.
/// </summary>
internal readonly struct RowKey(byte[] bytes) : IEquatable<RowKey>
{
    public byte[] Bytes { get; } = bytes;

    /// <summary>The key of <paramref name="row"/>: the fields at <paramref name="keyFields"/>, in that order.</summary>
    public static RowKey Of(DecodedRow row, ReadOnlySpan<int> keyFields)
    {
        var length = 0;
        foreach (var index in keyFields) length += 4 + row.Field(index).Length;
        var bytes = new byte[length];
        var position = 0;
        foreach (var index in keyFields)
        {
            var field = row.Field(index);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(position), row.State(index) == FieldState.Value ? field.Length : -1);
            field.CopyTo(bytes.AsSpan(position + 4));
            position += 4 + field.Length;
        }

        return new RowKey(bytes);
    }

    public bool Equals(RowKey other) => Bytes.AsSpan().SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is RowKey other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Bytes);
        return hash.ToHashCode();
    }
}
