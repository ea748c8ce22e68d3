namespace DataSync.Wal.Segments;

/// <summary>A segment file on disk.</summary>
public sealed class FileWalSegmentSource(string path) : WalSegmentSource(Path.GetFileName(path))
{
    public string FilePath { get; } = path;

    // Reads are large chunks straight into the segment buffer; a FileStream buffer would only add a copy.
    public override Stream OpenRaw() => new FileStream(FilePath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
}
