using System.Buffers.Binary;
using DataSync.Wal.Records;
using DataSync.Wal.Tests.Support;
using K4os.Compression.LZ4;

namespace DataSync.Wal.Tests.Integration;

/// <summary>Full-page images of real records: uncompressed and pglz as the server wrote them, lz4 and zstd re-made from real ones.</summary>
[Collection(RealWalCollection.Name)]
public class FullPageImageTests(RealWal wal)
{
    private sealed record RealImage(RelFileLocator Relation, uint Block, uint Xid, ushort HoleOffset, ushort HoleLength, byte[] Page);

    [Fact]
    public void Restored_images_are_consistent_heap_and_index_pages_whose_hole_is_pd_lower_to_pd_upper()
    {
        var page = new byte[8192];
        int plain = 0, pglz = 0;
        using var reader = WalRecordReader.OpenFiles(wal.Segments);
        while (reader.MoveNext())
        {
            var record = reader.Current;
            for (var i = 0; i < record.BlockCount; i++)
            {
                ref readonly var block = ref record.Block(i);
                if (!block.HasImage) continue;
                record.RestorePageImage(i, page);
                if (block.Compression == ImageCompression.Pglz) pglz++;
                else plain++;
                CheckStandardPage(page, block, record.Lsn);
            }
        }

        Assert.True(plain > 1000, $"{plain} plain images");
        Assert.True(pglz > 100, $"{pglz} pglz images");
    }

    [Fact]
    public void Lz4_and_zstd_images_made_from_real_ones_restore_to_the_original_page()
    {
        var originals = RealImages(300);
        var builder = new WalBuilder();
        using var zstd = new ZstdSharp.Compressor();
        foreach (var image in originals)
        {
            var content = WithoutHole(image);
            var lz4 = new byte[LZ4Codec.MaximumOutputSize(content.Length)];
            var lz4Length = LZ4Codec.Encode(content, lz4, LZ4Level.L00_FAST);
            var zst = zstd.Wrap(content).ToArray();
            foreach (var (stored, flag) in new[] { (lz4[..lz4Length], BlockReference.ImageLz4), (zst, BlockReference.ImageZstd) })
            {
                var info = (byte)(BlockReference.ImageApply | flag | (image.HoleLength > 0 ? BlockReference.ImageHasHole : 0));
                builder.Add(0, 0xA0, image.Xid, new RecordBody()
                    .ImageBlock(0, image.Relation, image.Block, stored, image.HoleOffset, image.HoleLength, info).ToArray());
            }
        }

        var restored = new byte[8192];
        var index = 0;
        var seen = new HashSet<ImageCompression>();
        using var reader = new WalRecordReader(builder.Sources());
        while (reader.MoveNext())
        {
            var original = originals[index / 2];
            var record = reader.Current;
            Assert.Equal("FPI_FOR_HINT", record.RecordType);
            Assert.Equal(original.Relation, record.Block(0).Relation);
            seen.Add(record.Block(0).Compression);
            record.RestorePageImage(0, restored);
            Assert.True(original.Page.AsSpan().SequenceEqual(restored), $"image {index} ({record.Block(0).Compression}) differs");
            index++;
        }

        Assert.Equal(originals.Count * 2, index);
        Assert.Equal([ImageCompression.Lz4, ImageCompression.Zstd], seen.Order());
    }

    [Fact]
    public void A_corrupt_compressed_image_is_a_typed_error()
    {
        var image = RealImages(1)[0];
        var content = WithoutHole(image);
        var lz4 = new byte[LZ4Codec.MaximumOutputSize(content.Length)];
        var length = LZ4Codec.Encode(content, lz4, LZ4Level.L00_FAST);
        var stored = lz4[..length];
        stored[length / 2] ^= 0xFF;
        stored[^1] ^= 0xFF;
        var builder = new WalBuilder();
        var info = (byte)(BlockReference.ImageApply | BlockReference.ImageLz4 | (image.HoleLength > 0 ? BlockReference.ImageHasHole : 0));
        builder.Add(0, 0xA0, 0, new RecordBody().ImageBlock(0, image.Relation, image.Block, stored, image.HoleOffset, image.HoleLength, info).ToArray());
        using var reader = new WalRecordReader(builder.Sources());
        Assert.True(reader.MoveNext());

        var error = Assert.Throws<WalFormatException>(() => reader.Current.RestorePageImage(0, new byte[8192]));
        Assert.Equal(WalErrorKind.BadImage, error.Kind);
        Assert.Equal(reader.Current.Lsn, error.Lsn);
    }

    private List<RealImage> RealImages(int count)
    {
        var images = new List<RealImage>();
        using var reader = WalRecordReader.OpenFiles(wal.Segments);
        while (images.Count < count && reader.MoveNext())
        {
            var record = reader.Current;
            for (var i = 0; i < record.BlockCount && images.Count < count; i++)
            {
                ref readonly var block = ref record.Block(i);
                if (!block.HasImage) continue;
                var page = new byte[8192];
                record.RestorePageImage(i, page);
                images.Add(new RealImage(block.Relation, block.BlockNumber, record.Xid, (ushort)block.HoleOffset, (ushort)block.HoleLength, page));
            }
        }

        Assert.Equal(count, images.Count);
        if (count > 100)
        {
            Assert.Contains(images, i => i.HoleLength == 0);
            Assert.Contains(images, i => i.HoleLength > 0);
        }

        return images;
    }

    private static byte[] WithoutHole(RealImage image) =>
        [.. image.Page.AsSpan(0, image.HoleOffset), .. image.Page.AsSpan(image.HoleOffset + image.HoleLength)];

    private static void CheckStandardPage(byte[] page, BlockReference block, Lsn lsn)
    {
        var lower = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(12));
        var upper = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(14));
        var special = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(16));
        var version = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(18));
        if (upper == 0) return; // a new, all-zero page
        var where = $"image of {block.Relation} blk {block.BlockNumber} in record {lsn}";
        Assert.True(version == 0x2004, $"{where}: page size/version 0x{version:X4}");
        Assert.True(24 <= lower && lower <= upper && upper <= special && special <= 8192, $"{where}: lower {lower} upper {upper} special {special}");
        if (block.HoleLength > 0)
        {
            Assert.True(block.HoleOffset == lower && block.HoleOffset + block.HoleLength == upper,
                $"{where}: hole {block.HoleOffset}+{block.HoleLength} is not pd_lower..pd_upper");
        }

        // Every normal line pointer must point inside the page's tuple space.
        for (var offset = 24; offset + 4 <= lower; offset += 4)
        {
            var item = BinaryPrimitives.ReadUInt32LittleEndian(page.AsSpan(offset));
            var flags = (item >> 15) & 3;
            var start = item & 0x7FFF;
            var length = item >> 17;
            if (flags == 1) Assert.True(start >= upper && start + length <= special, $"{where}: line pointer at {offset} points at {start}+{length}");
        }
    }
}
