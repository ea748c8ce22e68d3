namespace DataSync.Messages.Control;

/// <summary>
/// Where a verify job stands: the table being verified, its phase (<c>preparing</c>, <c>restoring</c>, <c>comparing</c>,
/// <c>repairing</c>, <c>done</c>) with what that phase is doing, the rows compared so far of about how many (null when not
/// known), the seconds in that phase and since that table's verify began; all null or zero before the first report. <paramref name="Result"/> is set once the job has finished: the
/// verdict lines and the exit code. An unknown job (the daemon restarted) has a result that says so.
/// </summary>
public sealed record VerifyProgressReply(string Job, string? Table, string? Phase, string? Detail, long RowsCompared, long? RowsEstimated, double PhaseElapsedSeconds,
    double ElapsedSeconds, ControlReply? Result)
    : IDataSyncMessage;
