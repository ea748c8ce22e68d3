namespace DataSync.Wal.Records;

/// <summary>How a full-page image is stored (the BKPIMAGE_COMPRESS_* bits of bimg_info).</summary>
public enum ImageCompression : byte
{
    None,
    Pglz,
    Lz4,
    Zstd,
}
