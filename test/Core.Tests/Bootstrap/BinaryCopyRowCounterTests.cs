using System.Buffers.Binary;
using DataSync.Core.Bootstrap;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>The row count of a binary COPY stream, however its bytes are cut into pieces.</summary>
public sealed class BinaryCopyRowCounterTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100_000)]
    public void Rows_are_counted_across_any_cut_of_the_stream(int piece)
    {
        // Rows with a NULL, an empty value, a long value, no fields at all, and a header extension to skip.
        var stream = Stream([[null, [], new byte[300]], [], [[1, 2, 3, 4], null], [new byte[70_000]]], extension: 5);
        var counter = new BinaryCopyRowCounter();
        for (var at = 0; at < stream.Length; at += piece) counter.Add(stream.AsSpan(at, Math.Min(piece, stream.Length - at)));
        Assert.Equal(4, counter.Rows);
        Assert.True(counter.Ended);
    }

    [Fact]
    public void A_stream_cut_before_its_end_marker_is_not_ended()
    {
        var stream = Stream([[new byte[10]]], extension: 0);
        var counter = new BinaryCopyRowCounter();
        counter.Add(stream.AsSpan(0, stream.Length - 2));
        Assert.Equal(1, counter.Rows);
        Assert.False(counter.Ended);
    }

    [Fact]
    public void Bytes_that_are_not_a_binary_COPY_stream_are_refused()
    {
        var counter = new BinaryCopyRowCounter();
        Assert.Throws<InvalidDataException>(() => counter.Add("id,name\n1,one\n2,two\n3,three\n"u8));
    }

    private static byte[] Stream(byte[]?[][] rows, int extension)
    {
        var bytes = new List<byte>();
        bytes.AddRange("PGCOPY\n"u8.ToArray());
        bytes.AddRange([0xFF, (byte)'\r', (byte)'\n', 0]);
        bytes.AddRange(new byte[4]);
        bytes.AddRange(BigEndian(extension));
        bytes.AddRange(new byte[extension]);
        foreach (var row in rows)
        {
            bytes.Add((byte)(row.Length >> 8));
            bytes.Add((byte)row.Length);
            foreach (var field in row)
            {
                bytes.AddRange(BigEndian(field?.Length ?? -1));
                if (field is not null) bytes.AddRange(field);
            }
        }

        bytes.AddRange([0xFF, 0xFF]);
        return bytes.ToArray();
    }

    private static byte[] BigEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }
}
