namespace DataSync.Wal.Records;

/// <summary>What <see cref="SegmentReorderBuffer.TryAdd"/> did with a segment; anything but <see cref="Accepted"/> disposed it.</summary>
public enum SegmentAdmission
{
    /// <summary>Held until its turn.</summary>
    Accepted,
    /// <summary>Its sequence number was given out already (a late duplicate).</summary>
    GivenOutAlready,
    /// <summary>A segment with the same sequence number is waiting already.</summary>
    HereAlready,
    /// <summary>Too far ahead of the next to give out: the buffer holds at most its capacity.</summary>
    BeyondBound,
}
