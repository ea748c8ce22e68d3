using DataSync.Wal.Segments;

namespace DataSync.Wal.Records;

/// <summary>
/// The ordered stage after parallel framing: gives the records of <see cref="FramedSegment"/>s handed
/// over in segment order, one by one, exactly as <see cref="WalRecordReader"/> gives them from the same
/// files (same records, same <see cref="WalRecord"/> fields, same end, same errors at the same point),
/// without checking their CRCs again.
/// </summary>
/// <remarks>
/// <para>Segments come from the enumerable given at construction (pulled lazily, one ahead of none)
/// and/or from <see cref="Append"/>. The reader owns every segment it is given and disposes it once
/// past its last record (or when the reader is disposed).</para>
/// <para>Running out of segments ends reading with <see cref="WalReadEnd.EndOfFiles"/> and
/// <see cref="EndLsn"/> where the next segment's records begin, as the sequential reader does at the
/// end of its files; <see cref="Append"/> then goes on. A segment that ends in
/// <see cref="WalReadEnd.IncompleteRecord"/> (or zeros) ends reading there, even when later segments
/// are queued; append the same segment framed again (once the next one is available, best with
/// <see cref="SegmentFramer.Frame"/>'s <c>from</c> = <see cref="EndLsn"/>) to go on from that record:
/// records before it are skipped. A segment's <see cref="FramedSegment.Failure"/> is thrown after its records, and again on
/// every later <see cref="MoveNext"/>.</para>
/// <para>Across a timeline switch, give the copies <see cref="WalRecordReader.ChooseSegments"/> picks, framed with
/// the options this reader gets: timelines may only go forward from segment to segment and from page to page; a
/// segment whose timeline ended inside it (<see cref="WalReadEnd.TimelineEnded"/>) ends reading, and a segment
/// after it is a gap, as for the sequential reader.</para>
/// </remarks>
public sealed class FramedRecordReader : IWalRecordSource
{
    private readonly LinkedList<FramedSegment> _queue = new();
    private readonly WalReaderOptions _options;
    private readonly WalRecord _record;
    private IEnumerator<FramedSegment>? _pending;
    private FramedSegment? _segment;
    private int _index;
    private Lsn _skipBefore;
    private Lsn _lastRecord;
    private bool _haveLast;
    private ulong _lastNumber;
    private string _lastFileName = "";
    private uint _segmentSize;
    private uint _pageSize;
    private ulong _systemIdentifier;
    private uint _timeline;
    private uint _lastPageTimeline;
    private bool _disposed;

    public FramedRecordReader(IEnumerable<FramedSegment> segments, WalReaderOptions? options = null)
    {
        _options = options ?? new WalReaderOptions();
        _pending = segments.GetEnumerator();
        _record = new WalRecord(_options.BlockSize);
    }

    public WalRecord Current => _record;

    public WalReadEnd End { get; private set; }

    public Lsn EndLsn { get; private set; }

    /// <summary>The timeline of the segment being read now (its pages may carry older ones, copied at a switch).</summary>
    public uint Timeline => _timeline;

    /// <summary>The error that stopped reading, if one did.</summary>
    public WalFormatException? Failure { get; private set; }

    /// <summary>
    /// Hands over the next segment in order (the reader owns it from now on). Allowed while reading
    /// and after a clean <see cref="End"/>, which it lifts; not after a failure. After an end inside a
    /// segment (<see cref="WalReadEnd.IncompleteRecord"/>), that segment framed again goes first, ahead
    /// of any later segments appended meanwhile, which wait for it.
    /// </summary>
    public void Append(FramedSegment segment)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Failure is not null)
        {
            segment.Dispose();
            throw new InvalidOperationException("the reader stopped at bad WAL", Failure);
        }

        if (EndedInsideSegment && IsLastSegment(segment)) _queue.AddFirst(segment);
        else _queue.AddLast(segment);
    }

    private bool EndedInsideSegment => End is WalReadEnd.IncompleteRecord or WalReadEnd.ZeroedTail or WalReadEnd.StalePartialTail;

    private bool IsLastSegment(FramedSegment segment) => _haveLast && segment.Name.SegmentNumber(_segmentSize) == _lastNumber;

    public bool MoveNext()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Failure is not null) throw Failure;
        try
        {
            while (true)
            {
                if (_segment is not null)
                {
                    if (_index < _segment.RecordCount)
                    {
                        var index = _index++;
                        var lsn = _segment.RecordLsn(index);
                        if (lsn < _skipBefore) continue;
                        _segment.DecodeInto(index, _record);
                        // The framer linked each record to the one before it in the segment; the first links to the previous segment's last.
                        if (index == 0 && _lastRecord.IsValid && !_segment.FirstRecordAfterReset && _record.PrevLsn != _lastRecord)
                                throw new WalFormatException(WalErrorKind.BadRecordHeader, _segment.FileName, (long)(lsn.Value - _segment.SegmentStart.Value) + 8, lsn,
                                    $"record says the previous record is at {_record.PrevLsn}, but it was at {_lastRecord}");

                        _lastRecord = lsn;
                        if (lsn >= _options.StartLsn) return true;
                        continue;
                    }

                    if (!FinishSegment()) return false;
                }

                // Valid WAL ended inside a segment: only that segment framed again goes on; later ones wait.
                if (EndedInsideSegment && (_queue.First is not { } head || !IsLastSegment(head.Value))) return false;
                var next = TakeNext();
                if (next is null)
                {
                    if (End == WalReadEnd.None) End = WalReadEnd.EndOfFiles;
                    return false;
                }

                Begin(next);
            }
        }
        catch (WalFormatException e)
        {
            Failure = e;
            throw;
        }
    }

    /// <summary>After a segment's last record: its failure, its end, or on to the next.</summary>
    private bool FinishSegment()
    {
        var segment = _segment!;
        _segment = null;
        // The record points into the segment's buffer, which goes back to the pool below.
        _record.Forget();
        try
        {
            if (segment.Failure is not null) throw segment.Failure;
            if (segment.EndsWithReset) _lastRecord = Lsn.Invalid;
            End = segment.End;
            EndLsn = segment.EndLsn;
            // Complete: reading goes on with the next segment if there is one (End is reset then). After the end
            // of a timeline another segment is a gap, which Begin reports.
            return segment.End is WalReadEnd.EndOfFiles or WalReadEnd.TimelineEnded;
        }
        finally
        {
            segment.Dispose();
        }
    }

    private FramedSegment? TakeNext()
    {
        if (_queue.First is { } head)
        {
            _queue.RemoveFirst();
            return head.Value;
        }

        if (_pending is null) return null;
        if (_pending.MoveNext()) return _pending.Current;
        _pending.Dispose();
        _pending = null;
        return null;
    }

    /// <summary>The checks the sequential reader makes when it opens the next file.</summary>
    private void Begin(FramedSegment segment)
    {
        _segment = segment;
        _index = 0;
        var resuming = EndedInsideSegment;
        _skipBefore = resuming ? EndLsn : Lsn.Invalid;
        var endBefore = End;
        if (endBefore == WalReadEnd.TimelineEnded)
            throw new WalFormatException(WalErrorKind.Gap, _lastFileName, (long)(EndLsn.Value - _lastNumber * _segmentSize), EndLsn,
                $"timeline {_timeline} ends here and the next timeline's copy of {_lastFileName} is missing, but later segment file(s) follow");
        End = WalReadEnd.None;

        // A file that could not even be opened: its error is the first thing the sequential reader meets too.
        if (segment.SegmentSize == 0)
        {
            if (segment.Failure is not null) throw segment.Failure;
            return;
        }

        if (!_haveLast)
        {
            _segmentSize = segment.SegmentSize;
            _pageSize = segment.PageSize;
            _systemIdentifier = segment.SystemIdentifier;
            _timeline = segment.Timeline;
        }
        else
        {
            var address = segment.SegmentStart;
            if (segment.SegmentSize != _segmentSize || segment.PageSize != _pageSize)
                throw new WalFormatException(WalErrorKind.BadPageHeader, segment.FileName, 32, address,
                    $"segment size {segment.SegmentSize} / page size {segment.PageSize} differ from the first segment's {_segmentSize} / {_pageSize}");
            if (segment.SystemIdentifier != _systemIdentifier)
                throw new WalFormatException(WalErrorKind.BadPageHeader, segment.FileName, 24, address,
                    $"system identifier {segment.SystemIdentifier} differs from the first segment's {_systemIdentifier}: WAL of another cluster");
            // The chosen copies never go back to an older timeline (see WalRecordReader.ChooseSegments).
            if (segment.Name.Timeline < _timeline)
                throw new WalFormatException(WalErrorKind.UnexpectedTimeline, segment.FileName, 0, address,
                    $"segment belongs to timeline {segment.Name.Timeline}, older than the previous segment's {_timeline}: not a chosen copy");
            _timeline = segment.Name.Timeline;
            var number = segment.Name.SegmentNumber(_segmentSize);
            if (resuming)
            {
                if (number != _lastNumber)
                    throw new InvalidOperationException(
                        $"reading ended in {_lastFileName} ({endBefore} at {_skipBefore}); append that segment framed again to go on, not {segment.FileName}");
            }
            else if (number != _lastNumber + 1)
            {
                var expected = WalSegmentName.Format(_timeline, _lastNumber + 1, _segmentSize);
                throw new WalFormatException(WalErrorKind.Gap, segment.FileName, 0, new Lsn((_lastNumber + 1) * _segmentSize),
                    number <= _lastNumber ? $"segment given twice (after {_lastFileName})" : $"segment {expected} is missing before this one");
            }

            // The framer checked page timelines within the segment; whether its first page goes back from the
            // previous segment's last one only the order tells.
            if (!resuming && segment.FirstPageTimeline != 0 && segment.FirstPageTimeline < _lastPageTimeline)
                throw new WalFormatException(WalErrorKind.UnexpectedTimeline, segment.FileName, 4, address + 4UL,
                    $"page is on timeline {segment.FirstPageTimeline}; its file is on timeline {_timeline}, the previous page on {_lastPageTimeline}");
        }

        if (segment.LastPageTimeline != 0) _lastPageTimeline = segment.LastPageTimeline;

        _haveLast = true;
        _lastNumber = segment.Name.SegmentNumber(_segmentSize);
        _lastFileName = segment.FileName;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _record.Forget();
        _segment?.Dispose();
        _segment = null;
        foreach (var queued in _queue) queued.Dispose();
        _queue.Clear();
        _pending?.Dispose();
        _pending = null;
    }
}
