using System.Buffers.Binary;

namespace DataSync.Wal.Segments;

/// <summary>Recognises a segment file's compression from its first bytes and checks that its name agrees.</summary>
public static class SegmentCompressionDetector
{
    private const uint ZstdFrameMagic = 0xFD2FB528;
    private const uint Lz4FrameMagic = 0x184D2204;

    /// <summary>Identifies the format from the leading bytes; anything unknown counts as uncompressed.</summary>
    public static SegmentCompression FromMagic(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 2 && head[0] == 0x1F && head[1] == 0x8B) return SegmentCompression.Gzip;
        if (head.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(head) == ZstdFrameMagic) return SegmentCompression.Zstd;
        if (head.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(head) == Lz4FrameMagic) return SegmentCompression.Lz4Frame;
        // Any other first word is left to the page-header check, which reports it as bad magic.
        return SegmentCompression.None;
    }

    public static SegmentCompression FromSuffix(string suffix) => suffix switch
    {
        ".gz" => SegmentCompression.Gzip,
        ".zst" => SegmentCompression.Zstd,
        ".lz4" => SegmentCompression.Lz4Frame,
        _ => SegmentCompression.None,
    };
}
