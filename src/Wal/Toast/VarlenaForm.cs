namespace DataSync.Wal.Toast;

/// <summary>How a variable-length value is stored, as told by its first byte (src/include/varatt.h).</summary>
public enum VarlenaForm : byte
{
    /// <summary>1-byte header, payload inline (up to 126 bytes).</summary>
    Short,
    /// <summary>4-byte header, payload inline and uncompressed.</summary>
    Long,
    /// <summary>4-byte header, then the compression info word and a compressed stream.</summary>
    CompressedInline,
    /// <summary>A TOAST pointer: the value lives in chunks of the TOAST relation.</summary>
    External,
}
