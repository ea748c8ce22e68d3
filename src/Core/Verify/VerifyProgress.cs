namespace DataSync.Core.Verify;

/// <summary>The steps of verifying one table, in order.</summary>
public enum VerifyPhase
{
    /// <summary>Holding the table at its checkpoint and finding the base backup and the WAL.</summary>
    Preparing,

    /// <summary>Restoring the base backup and replaying the WAL to the checkpoint.</summary>
    Restoring,

    /// <summary>Hashing key ranges on both sides and narrowing differing ones to rows.</summary>
    Comparing,

    /// <summary>Copying the differing rows from the restore into the local table.</summary>
    Repairing,

    /// <summary>The verdict is in.</summary>
    Done,
}

/// <summary>
/// Where a verify of one table stands: its phase, what the phase is doing (e.g. "replayed up to 0/5000000"), the rows
/// compared so far against about how many there are (<paramref name="RowsEstimated"/>, from the restore's statistics;
/// null until comparing, or without statistics), the time in this phase (what a rate is measured over) and the time since
/// the table's verify began.
/// </summary>
public sealed record VerifyProgress(string Table, VerifyPhase Phase, string? Detail, long RowsCompared, long? RowsEstimated, TimeSpan PhaseElapsed, TimeSpan Elapsed);

/// <summary>
/// Shows a verify's progress to whoever watches it (the command line's progress display, a daemon's job that the command
/// line polls). Called from the verify's own thread, often: an implementation decides how often to show.
/// </summary>
public interface IVerifyProgress
{
    void Report(VerifyProgress progress);
}
