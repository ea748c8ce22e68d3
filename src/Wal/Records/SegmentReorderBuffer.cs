namespace DataSync.Wal.Records;

/// <summary>
/// Holds <see cref="FramedSegment"/>s that arrive in any order (from a pool of framers) and gives them
/// back in segment order, one after the other, to the single stage that reassembles transactions.
/// </summary>
/// <remarks>
/// Not thread-safe: one owner (the ordered stage) adds and takes. It owns the segments it holds and
/// disposes them on <see cref="Dispose"/>; a segment taken is the taker's.
/// </remarks>
public sealed class SegmentReorderBuffer : IDisposable
{
    private readonly SortedDictionary<ulong, FramedSegment> _waiting = [];
    private readonly uint _segmentSize;

    /// <param name="firstSegment">The 24-hex-digit name (or file name) of the first segment to give out.</param>
    /// <param name="segmentSize">The cluster's WAL segment size (16 MiB unless initdb was told otherwise).</param>
    public SegmentReorderBuffer(string firstSegment, uint segmentSize)
    {
        if (!Segments.WalSegmentName.TryParse(firstSegment, out var name)) throw new ArgumentException($"'{firstSegment}' is not a WAL segment name", nameof(firstSegment));
        _segmentSize = segmentSize;
        NextSegmentNumber = name.SegmentNumber(segmentSize);
    }

    /// <summary>The segment number <see cref="TakeNext"/> gives next.</summary>
    public ulong NextSegmentNumber { get; private set; }

    /// <summary>Segments waiting for one before them.</summary>
    public int Count => _waiting.Count;

    /// <summary>Record bytes held by the waiting segments (what a bound on the pool's lead would look at).</summary>
    public long BufferedBytes => _waiting.Values.Sum(s => s.RecordBytesTotal);

    /// <summary>Takes a framed segment in, in any order. One that was given out already, or is here already, is refused (and disposed).</summary>
    public void Add(FramedSegment segment)
    {
        var number = segment.Name.SegmentNumber(_segmentSize);
        if (number < NextSegmentNumber || !_waiting.TryAdd(number, segment))
        {
            segment.Dispose();
            throw new InvalidOperationException($"segment {segment.FileName} was given out already or is waiting already");
        }
    }

    /// <summary>The next segment in order if it has arrived, else null; the caller owns it.</summary>
    public FramedSegment? TakeNext()
    {
        if (!_waiting.Remove(NextSegmentNumber, out var segment)) return null;
        NextSegmentNumber++;
        return segment;
    }

    public void Dispose()
    {
        foreach (var segment in _waiting.Values) segment.Dispose();
        _waiting.Clear();
    }
}
