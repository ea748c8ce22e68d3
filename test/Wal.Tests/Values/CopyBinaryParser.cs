using System.Buffers.Binary;
using DataSync.Wal.Values;

namespace DataSync.Wal.Tests.Values;

/// <summary>Splits a COPY BINARY stream into rows of fields, checking the framing on the way.</summary>
internal static class CopyBinaryParser
{
    public static List<byte[]?[]> Parse(ReadOnlySpan<byte> data)
    {
        Assert.True(data[..11].SequenceEqual(CopyBinaryFormat.Signature), "COPY signature");
        var extension = BinaryPrimitives.ReadInt32BigEndian(data[15..]);
        var position = 19 + extension;
        var rows = new List<byte[]?[]>();
        while (true)
        {
            var count = BinaryPrimitives.ReadInt16BigEndian(data[position..]);
            position += 2;
            if (count == -1) break;
            var fields = new byte[]?[count];
            for (var i = 0; i < count; i++)
            {
                var length = BinaryPrimitives.ReadInt32BigEndian(data[position..]);
                position += 4;
                if (length >= 0)
                {
                    fields[i] = data.Slice(position, length).ToArray();
                    position += length;
                }
            }

            rows.Add(fields);
        }

        Assert.Equal(data.Length, position);
        return rows;
    }
}
