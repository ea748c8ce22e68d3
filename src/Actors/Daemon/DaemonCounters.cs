using System.Collections.Concurrent;
using DataSync.Core.Apply;

namespace DataSync.Actors.Daemon;

/// <summary>
/// The counters <c>status</c> reports "since start" and the metrics endpoint exports: shared by the pipeline that adds to
/// them and the readers (control endpoint, scrapes) that read them from other threads.
/// </summary>
public sealed class DaemonCounters
{
    private readonly ConcurrentDictionary<string, TableTally> _tables = new(StringComparer.Ordinal);
    private long _recordsSynced;
    private long _errors;
    private long _segmentsDecoded;
    private long _walBytesDecoded;

    public DaemonCounters(DateTimeOffset startTime) => StartTime = startTime;

    public DateTimeOffset StartTime { get; }

    public long RecordsSynced => Interlocked.Read(ref _recordsSynced);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Segments the stream has decoded since start (a segment framed again to finish a record cut at its end counts again).</summary>
    public long SegmentsDecoded => Interlocked.Read(ref _segmentsDecoded);

    /// <summary>Bytes of WAL those segments held.</summary>
    public long WalBytesDecoded => Interlocked.Read(ref _walBytesDecoded);

    public void AddRecords(long count) => Interlocked.Add(ref _recordsSynced, count);

    public void AddError() => Interlocked.Increment(ref _errors);

    public void AddDecoded(long segments, long bytes)
    {
        Interlocked.Add(ref _segmentsDecoded, segments);
        Interlocked.Add(ref _walBytesDecoded, bytes);
    }

    /// <summary>Row changes committed to <paramref name="table"/> (its canonical name), by operation.</summary>
    public void AddApplied(string table, ApplyCounts counts) => _tables.GetOrAdd(table, _ => new TableTally()).Add(counts);

    /// <summary>Row changes committed per table since start, by operation.</summary>
    public IReadOnlyDictionary<string, ApplyCounts> Applied() => _tables.ToDictionary(t => t.Key, t => t.Value.Read(), StringComparer.Ordinal);

    /// <summary>One table's running totals; added to by the stream, read by scrapes.</summary>
    private sealed class TableTally
    {
        private long _inserted, _updated, _deleted, _truncated;

        public void Add(ApplyCounts counts)
        {
            Interlocked.Add(ref _inserted, counts.Inserted);
            Interlocked.Add(ref _updated, counts.Updated);
            Interlocked.Add(ref _deleted, counts.Deleted);
            Interlocked.Add(ref _truncated, counts.Truncated);
        }

        public ApplyCounts Read() =>
            new(Interlocked.Read(ref _inserted), Interlocked.Read(ref _updated), Interlocked.Read(ref _deleted), Interlocked.Read(ref _truncated));
    }
}
