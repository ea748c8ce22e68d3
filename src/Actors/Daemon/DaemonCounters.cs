namespace DataSync.Actors.Daemon;

/// <summary>The counters <c>status</c> reports "since start": shared by the appliers that add to them and the control endpoint that reads them.</summary>
public sealed class DaemonCounters
{
    private long _recordsSynced;
    private long _errors;

    public DaemonCounters(DateTimeOffset startTime) => StartTime = startTime;

    public DateTimeOffset StartTime { get; }

    public long RecordsSynced => Interlocked.Read(ref _recordsSynced);

    public long Errors => Interlocked.Read(ref _errors);

    public void AddRecords(long count) => Interlocked.Add(ref _recordsSynced, count);

    public void AddError() => Interlocked.Increment(ref _errors);
}
