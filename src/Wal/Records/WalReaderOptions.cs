using DataSync.Wal.Segments;

namespace DataSync.Wal.Records;

/// <summary>Settings of a <see cref="WalRecordReader"/>.</summary>
public sealed record WalReaderOptions
{
    /// <summary>The newest timeline to read (a segment of a newer one is an error); null: the history's, or the newest among the segments.</summary>
    public uint? Timeline { get; init; }

    /// <summary>
    /// The history file of the timeline to read, when known: each segment is then read from the timeline that owns
    /// it, an older timeline's copy only up to where that timeline ended, and pages must be on its timelines.
    /// </summary>
    public TimelineHistory? History { get; init; }

    /// <summary>Records that start before this position are read (to follow the chain) but not returned.</summary>
    public Lsn StartLsn { get; init; } = Lsn.Invalid;

    /// <summary>Data page size (BLCKSZ) that full-page images restore to; 8192 unless PostgreSQL was built otherwise.</summary>
    public int BlockSize { get; init; } = 8192;
}
