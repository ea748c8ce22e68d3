namespace DataSync.Core.Configuration;

/// <summary>What to do when a change does not fit the local row (ON_CONFLICT).</summary>
public enum OnConflict
{
    /// <summary>Pause the table with a FAILED log; <c>resync</c> repairs it.</summary>
    Fail,

    /// <summary>Upsert (or ignore a delete of a missing row) and go on.</summary>
    Overwrite,
}
