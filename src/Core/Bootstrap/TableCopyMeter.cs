namespace DataSync.Core.Bootstrap;

/// <summary>One table's copy as it streams: the rows so far (set from the copying thread), the estimate, and when it committed.</summary>
public sealed class TableCopyMeter
{
    private readonly TimeProvider _clock;
    private readonly long _start;
    private long _rows;
    private long _end;

    internal TableCopyMeter(string table, long? estimatedRows, TimeProvider clock)
    {
        Table = table;
        EstimatedRows = estimatedRows;
        _clock = clock;
        _start = clock.GetTimestamp();
    }

    public string Table { get; }

    public long? EstimatedRows { get; }

    /// <summary>The rows streamed so far (a running count, not an increment).</summary>
    public void Copied(long rows) => Volatile.Write(ref _rows, rows);

    /// <summary>The copy has committed.</summary>
    public void Done() => Interlocked.CompareExchange(ref _end, _clock.GetTimestamp(), 0);

    internal TableCopySnapshot Snapshot()
    {
        var end = Volatile.Read(ref _end);
        var elapsed = end == 0 ? _clock.GetElapsedTime(_start) : _clock.GetElapsedTime(_start, end);
        return new TableCopySnapshot(Table, Volatile.Read(ref _rows), EstimatedRows, elapsed, end != 0);
    }
}
