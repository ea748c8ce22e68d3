namespace DataSync.Wal.Segments;

/// <summary>How an archive_command may have compressed a segment file.</summary>
public enum SegmentCompression
{
    None,
    Gzip,
    Zstd,
    /// <summary>The LZ4 frame format, as the <c>lz4</c> command line tool writes it.</summary>
    Lz4Frame,
}
