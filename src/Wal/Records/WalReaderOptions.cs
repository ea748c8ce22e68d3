namespace DataSync.Wal.Records;

/// <summary>Settings of a <see cref="WalRecordReader"/>.</summary>
public sealed record WalReaderOptions
{
    /// <summary>The timeline every segment must belong to; null takes the first segment's.</summary>
    public uint? Timeline { get; init; }

    /// <summary>Records that start before this position are read (to follow the chain) but not returned.</summary>
    public Lsn StartLsn { get; init; } = Lsn.Invalid;

    /// <summary>Data page size (BLCKSZ) that full-page images restore to; 8192 unless PostgreSQL was built otherwise.</summary>
    public int BlockSize { get; init; } = 8192;
}
