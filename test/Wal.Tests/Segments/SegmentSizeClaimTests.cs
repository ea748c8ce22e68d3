using System.Buffers.Binary;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Tests.Segments;

/// <summary>A segment's header gives the size the loader takes a buffer for: a file that claims more than it holds must not cost that memory.</summary>
public sealed class SegmentSizeClaimTests
{
    [Fact]
    public void A_plain_file_whose_header_claims_1_GiB_is_refused_before_a_buffer_that_large_is_taken()
    {
        var bytes = new byte[1 << 20];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, 0xD118);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), 0x0002);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), 2UL << 30);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), 1u << 30);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(36), 8192);
        var path = Path.Combine(Directory.CreateTempSubdirectory("datasync-claim-").FullName, "000000010000000000000002");
        File.WriteAllBytes(path, bytes);
        try
        {
            var buffer = Array.Empty<byte>();
            var before = GC.GetTotalAllocatedBytes(precise: true);
            var error = Assert.Throws<WalFormatException>(() => SegmentLoader.Load(WalSegmentSource.FromFile(path), ref buffer));
            Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 64L << 20, "no buffer of the claimed size was taken");
            Assert.Equal(WalErrorKind.Truncated, error.Kind);
            Assert.Equal("000000010000000000000002", error.FileName);
            Assert.Contains($"says segments are {1 << 30} bytes", error.Message);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
