using System.IO.Compression;
using DataSync.Wal.Segments;
using DataSync.Wal.Tests.Support;

namespace DataSync.Wal.Tests.Segments;

public class SegmentBuffersTests
{
    private const int Size = 1 << 20;

    [Fact]
    public async Task A_buffer_given_back_on_one_thread_is_rented_again_on_another()
    {
        var pool = new SegmentBuffers(2);
        var rented = await Task.Run(() => pool.Rent(Size));
        await Task.Run(() => pool.Return(rented));

        var again = await Task.Run(() => pool.Rent(Size));

        Assert.Same(rented, again);
        Assert.Equal(0, pool.IdleCount);
    }

    [Fact]
    public void No_more_than_its_capacity_is_kept_and_a_new_size_replaces_an_old_one()
    {
        var pool = new SegmentBuffers(2);
        var many = Enumerable.Range(0, 5).Select(_ => pool.Rent(Size)).ToList();
        foreach (var buffer in many) pool.Return(buffer);

        Assert.Equal(2, pool.IdleCount);
        Assert.Same(many[0], pool.Rent(Size));
        Assert.Same(many[1], pool.Rent(Size));
        var fresh = pool.Rent(Size);
        Assert.DoesNotContain(many, b => ReferenceEquals(b, fresh));

        // Full of one size, a buffer of another size (a cluster with another segment size) takes a place.
        pool.Return(many[0]);
        pool.Return(many[1]);
        var larger = new byte[2 * Size];
        pool.Return(larger);
        Assert.Equal(2, pool.IdleCount);
        Assert.Same(larger, pool.Rent(2 * Size));
        Assert.Equal(1, pool.IdleCount);
    }

    [Fact]
    public void Trimming_lets_go_of_the_idle_buffers_and_renting_allocates_again()
    {
        var pool = new SegmentBuffers(2);
        var first = pool.Rent(Size);
        var second = pool.Rent(Size);
        pool.Return(first);
        pool.Return(second);

        Assert.Equal(2, pool.Trim());

        Assert.Equal(0, pool.IdleCount);
        var fresh = pool.Rent(Size);
        Assert.False(ReferenceEquals(fresh, first) || ReferenceEquals(fresh, second));
        Assert.Equal(0, pool.Trim());
    }

    [Fact]
    public void A_buffer_given_back_twice_is_an_error()
    {
        var pool = new SegmentBuffers(2);
        var buffer = pool.Rent(Size);
        pool.Return(buffer);

        Assert.Throws<InvalidOperationException>(() => pool.Return(buffer));
    }

    [Fact]
    public void CopyTo_writes_the_plain_segment_of_a_compressed_file()
    {
        var wal = new WalBuilder();
        for (var i = 0; i < 50; i++) wal.Add(21, 0, 0, new RecordBody().Main(new byte[1000]).ToArray());
        var (name, bytes) = wal.Segments()[0];
        using var gzipped = new MemoryStream();
        using (var gzip = new GZipStream(gzipped, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(bytes);

        using var output = new MemoryStream();
        var header = SegmentLoader.CopyTo(WalSegmentSource.FromMemory(name + ".gz", gzipped.ToArray()), output);

        Assert.Equal((uint)bytes.Length, header.SegmentSize);
        Assert.Equal(bytes, output.ToArray());
    }

    [Fact]
    public void CopyTo_rejects_a_file_shorter_or_longer_than_one_segment()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(new byte[10]).ToArray());
        var (name, bytes) = wal.Segments()[0];

        var truncated = Assert.Throws<WalFormatException>(() => SegmentLoader.CopyTo(WalSegmentSource.FromMemory(name, bytes[..100_000]), Stream.Null));
        Assert.Equal(WalErrorKind.Truncated, truncated.Kind);
        Assert.Equal(100_000, truncated.FileOffset);

        var longer = Assert.Throws<WalFormatException>(() => SegmentLoader.CopyTo(WalSegmentSource.FromMemory(name, [.. bytes, 0]), Stream.Null));
        Assert.Equal(WalErrorKind.BadLength, longer.Kind);
        Assert.Equal(name, longer.FileName);
    }
}
