namespace DataSync.Wal.Segments;

/// <summary>A segment held in memory (tests, and bytes fetched from elsewhere).</summary>
public sealed class MemoryWalSegmentSource(string fileName, byte[] bytes) : WalSegmentSource(fileName)
{
    public override Stream OpenRaw() => new MemoryStream(bytes, writable: false);
}
