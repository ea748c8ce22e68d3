namespace DataSync.Wal.Records;

/// <summary>Why a <see cref="WalRecordReader"/> stopped returning records without an error.</summary>
public enum WalReadEnd
{
    /// <summary>Still reading.</summary>
    None,
    /// <summary>The last segment ended exactly at a record boundary (or was ended by XLOG SWITCH).</summary>
    EndOfFiles,
    /// <summary>The last segment holds zeros where the next record would start: WAL not yet written.</summary>
    ZeroedTail,
    /// <summary>The last record continues beyond the last given segment; it is returned once the next segment is given.</summary>
    IncompleteRecord,
    /// <summary>A trailing .partial segment holds stale recycled pages after its valid part.</summary>
    StalePartialTail,
    /// <summary>
    /// The last segment given is an older timeline's copy (often a .partial), read up to where its timeline
    /// ended; what follows is on the newer timeline, whose copy of the segment was not given.
    /// </summary>
    TimelineEnded,
}
