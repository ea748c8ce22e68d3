namespace DataSync.Messages.Control;

/// <summary>
/// Where a verify job stands: the table being verified, its phase (<c>preparing</c>, <c>restoring</c>, <c>comparing</c>,
/// <c>repairing</c>, <c>done</c>) with what that phase is doing, the rows compared so far and the seconds since that table's
/// verify began; all null or zero before the first report. <paramref name="Result"/> is set once the job has finished: the
/// verdict lines and the exit code. An unknown job (the daemon restarted) has a result that says so.
/// </summary>
public sealed record VerifyProgressReply(string Job, string? Table, string? Phase, string? Detail, long RowsCompared, double ElapsedSeconds, ControlReply? Result)
    : IDataSyncMessage;
