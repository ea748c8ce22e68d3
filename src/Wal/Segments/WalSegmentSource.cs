namespace DataSync.Wal.Segments;

/// <summary>
/// Where the bytes of one segment come from: a file (plain or compressed) or memory. The name
/// must be a segment file name; it orders the segments and names the file in errors.
/// </summary>
public abstract class WalSegmentSource
{
    protected WalSegmentSource(string fileName)
    {
        FileName = fileName;
        if (!WalSegmentName.TryParse(fileName, out var name))
            throw new WalFormatException(WalErrorKind.BadFileName, fileName, -1, Lsn.Invalid,
                "not a WAL segment file name (24 upper-case hex digits, optionally .partial, optionally .gz/.zst/.lz4)");
        Name = name;
    }

    /// <summary>The file name without its directory.</summary>
    public string FileName { get; }

    public WalSegmentName Name { get; }

    /// <summary>Opens the raw (possibly compressed) bytes; must be seekable.</summary>
    public abstract Stream OpenRaw();

    public static WalSegmentSource FromFile(string path) => new FileWalSegmentSource(path);

    public static WalSegmentSource FromMemory(string fileName, byte[] bytes) => new MemoryWalSegmentSource(fileName, bytes);
}
