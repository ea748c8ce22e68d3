namespace DataSync.Core.Archive;

/// <summary>What the spool holds: the bytes and the number of its WAL segments.</summary>
public sealed record SpoolUsage(long Bytes, int Segments)
{
    public long MiB => Bytes / (1024 * 1024);
}
