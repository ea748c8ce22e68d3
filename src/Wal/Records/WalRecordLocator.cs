using System.Buffers;
using System.Buffers.Binary;
using DataSync.Wal.Pages;
using DataSync.Wal.Rmgr;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Records;

/// <summary>
/// Walks the pages of consecutive segments and finds where each record's bytes are,
/// checking every page header, every continuation and every record length on the way
/// (src/backend/access/transam/xlogreader.c is the model). The record itself (CRC, block references)
/// is checked by <see cref="WalRecord.Decode"/>, which the caller runs on the located bytes.
/// </summary>
/// <remarks>
/// <para>Shared by the sequential <see cref="WalRecordReader"/> and by <see cref="SegmentFramer"/>, which
/// frames the records that begin in one segment (<c>singleSegment</c>): it stops before the first record
/// that begins after that segment, reads a following segment only as far as the record crossing into it
/// needs, and checks only the first file's length (the following one is its own framer's job).</para>
/// <para>Each segment is read on its file's timeline; after a switch its pages may carry older timelines
/// (the part a promotion copied), never going backwards, and with a history only timelines of that history.
/// A copy of a timeline that ended inside the segment (the newer timeline's copy was not given) counts
/// only up to that end (<see cref="WalReadEnd.TimelineEnded"/>).</para>
/// <para>A record within one page is located in the segment buffer; one that crosses pages is copied
/// into a pooled assembly buffer. Either stays valid until the next <see cref="Next"/>.</para>
/// </remarks>
internal sealed class WalRecordLocator : IDisposable
{
    private readonly Func<int, WalSegmentSource?> _sourceAt;
    private readonly bool _singleSegment;
    private readonly TimelineHistory? _history;
    private readonly Lsn _startAt;
    private WalSegmentSource? _current;
    private int _lookupIndex = -1;
    private WalSegmentSource? _lookup;
    private byte[] _segment = [];
    // Single-segment mode: the first segment's buffer once reading moved on to the next segment, and whether the
    // framer took it (TakeFirstSegmentBuffer) to frame in place; the next segments are read into small growing buffers.
    private byte[] _firstSegment = [];
    private bool _firstSegmentTaken;
    private SegmentLoader? _loader;
    private byte[] _assembly = [];
    private int _segmentLength;
    private int _sourceIndex = -1;
    private Lsn _segmentStart;
    private ulong _segmentNumber;
    private uint _pageSize;
    private uint _timeline;
    private uint _lastPageTimeline;
    private Lsn _timelineEnd = SegmentChain.NoEnd;
    private int _position;
    private Lsn _previousRecord;

    /// <param name="sourceAt">The segment at an index of the sequence (0 = the first), or null past its end; asked at most once per index in a row.</param>
    /// <param name="startAt">Invalid to start at the first segment's first record; else a record known to begin in the first segment.</param>
    /// <param name="history">The history of the timeline read, when known: it says where each older timeline's copy ends and which page timelines are allowed.</param>
    public WalRecordLocator(Func<int, WalSegmentSource?> sourceAt, TimelineHistory? history, bool singleSegment, Lsn startAt = default)
    {
        _sourceAt = sourceAt;
        _history = history;
        _singleSegment = singleSegment;
        _startAt = startAt;
    }

    public WalReadEnd End { get; private set; }
    public Lsn EndLsn { get; private set; }
    public uint SegmentSize { get; private set; }
    public uint PageSize => _pageSize;
    public ulong SystemIdentifier { get; private set; }
    /// <summary>The timeline of the file being read now (its pages may carry older ones, copied at a switch).</summary>
    public uint Timeline => _timeline;

    /// <summary>The timelines of the first segment's own first and last page checked so far (0 before any).</summary>
    public uint FirstSegmentFirstPageTimeline { get; private set; }
    public uint FirstSegmentLastPageTimeline { get; private set; }

    /// <summary>The first segment's number (known once it is loaded).</summary>
    public ulong FirstSegmentNumber { get; private set; }

    /// <summary>The last record accepted (<see cref="Accept"/>), or invalid when a record was abandoned after it.</summary>
    public Lsn PreviousRecord => _previousRecord;

    /// <summary>A record was abandoned (overwritten after a crash) since the last accepted one: the next record does not link to it.</summary>
    public bool ChainReset { get; private set; }

    public string CurrentFileName => _current?.FileName ?? "";

    /// <summary>The located record (set by <see cref="Next"/>): its bytes are <c>RecordBuffer[RecordOffset..+RecordLength]</c>.</summary>
    public byte[] RecordBuffer { get; private set; } = [];
    public int RecordOffset { get; private set; }
    public uint RecordLength { get; private set; }
    public Lsn RecordLsn { get; private set; }
    /// <summary>The file the record begins in, and the offset of its first byte there.</summary>
    public string RecordFileName { get; private set; } = "";
    public int RecordFileOffset { get; private set; }
    /// <summary>Where the next record starts (as pg_walinspect's end_lsn).</summary>
    public Lsn RecordEndLsn { get; private set; }

    /// <summary>Finds the next record: true with the Record* properties set, false once <see cref="End"/> is set.</summary>
    public bool Next()
    {
        if (End != WalReadEnd.None) return false;
        if (_sourceIndex < 0)
        {
            if (!LoadNextSegment()) return Finish(WalReadEnd.EndOfFiles, Lsn.Invalid);
            if (_startAt.IsValid)
            {
                var offset = _startAt.Value - _segmentStart.Value;
                if (_startAt < _segmentStart || offset >= (ulong)_segmentLength || offset % _pageSize < WalPageHeader.ShortSize)
                    throw new WalFormatException(WalErrorKind.BadRecordHeader, CurrentFileName, -1, _startAt,
                        "asked to start reading at a record here, but no record can begin at this position of this segment");
                // The page the record begins on is checked again; the pages before it were checked when they were first read.
                var start = (int)offset;
                ValidatePageHeader(start - start % (int)_pageSize, out _);
                _position = start;
            }
            else if (!SkipLeadingContinuation())
            {
                return false;
            }
        }

        while (true)
        {
            if (_singleSegment && (_sourceIndex > 0 || _position >= _segmentLength))
                return Finish(WalReadEnd.EndOfFiles, _segmentStart + (ulong)_position);

            if (_position >= _segmentLength)
            {
                var next = _segmentStart + (ulong)_segmentLength;
                if (!LoadNextSegment()) return Finish(WalReadEnd.EndOfFiles, next);
            }

            // An older timeline's copy (the newer one's was not given) counts only up to where that timeline ended.
            if (_segmentStart + (ulong)_position >= _timelineEnd) return FinishAtTimelineEnd();

            if (_position % _pageSize == 0)
            {
                if (IsZeroPageHeader(_position)) return FinishAtZeros(_segmentStart + (ulong)_position);
                var header = ValidatePageHeader(_position, out var stale);
                if (stale) return FinishStale(_segmentStart + (ulong)_position);
                if (header.IsContinuation)
                    throw Error(WalErrorKind.BadContinuation, _position,
                        "page starts with the continuation of a record, but the previous record ended before this page");
                _position += header.Size;
            }

            var result = LocateRecordAt(_position);
            if (result == RecordResult.Located) return true;
            if (result == RecordResult.Ended) return false;
            // Abandoned: the record was overwritten after a crash; go on at the page's first record.
        }
    }

    /// <summary>
    /// Checks the located record's link to the record before it (once its CRC has proven the link
    /// field) and makes it the previous record.
    /// </summary>
    public void Accept(Lsn prevLsn)
    {
        if (_previousRecord.IsValid && prevLsn != _previousRecord)
            throw new WalFormatException(WalErrorKind.BadRecordHeader, RecordFileName, RecordFileOffset + 8, RecordLsn,
                $"record says the previous record is at {prevLsn}, but it was at {_previousRecord}");
        _previousRecord = RecordLsn;
        ChainReset = false;
    }

    private enum RecordResult
    {
        Located,
        Ended,
        Abandoned,
    }

    private RecordResult LocateRecordAt(int position)
    {
        var lsn = _segmentStart + (ulong)position;
        var totalLength = BinaryPrimitives.ReadUInt32LittleEndian(_segment.AsSpan(position));
        if (totalLength == 0)
        {
            FinishAtZeros(lsn);
            return RecordResult.Ended;
        }

        if (totalLength < WalRecord.HeaderSize || totalLength > WalRecord.MaxTotalLength)
            throw Error(WalErrorKind.BadLength, position, $"record length {totalLength} is outside {WalRecord.HeaderSize}..{WalRecord.MaxTotalLength}");

        var fileName = CurrentFileName;
        var pageLeft = (int)(_pageSize - (uint)position % _pageSize);
        int end;
        if (totalLength <= pageLeft)
        {
            RecordBuffer = _segment;
            RecordOffset = position;
            end = position + (int)totalLength;
        }
        else
        {
            var assembled = Assemble(position, totalLength, pageLeft, lsn);
            if (assembled < 0) return assembled == -1 ? RecordResult.Ended : RecordResult.Abandoned;
            RecordBuffer = _assembly;
            RecordOffset = 0;
            end = assembled;
        }

        RecordLength = totalLength;
        RecordLsn = lsn;
        RecordFileName = fileName;
        RecordFileOffset = position;
        _position = Align8(end);
        // After XLOG SWITCH the rest of the segment is zeros, page headers included, and the
        // record counts as ending there (as PostgreSQL reports its end). Header fields are read
        // before the CRC proves them; a record that fails its CRC throws before this matters.
        var record = RecordBuffer.AsSpan(RecordOffset);
        if (record[17] == (byte)RmgrId.Xlog && (record[16] & 0xF0) == 0x40) _position = _segmentLength;
        RecordEndLsn = _segmentStart + (ulong)_position;
        return RecordResult.Located;
    }

    /// <summary>
    /// Copies a record that crosses pages (and maybe segments) into the assembly buffer. Returns the
    /// position after its last byte in the now-current segment, -1 when WAL ended inside it, -2 when
    /// it was abandoned (an overwrite-continuation page follows).
    /// </summary>
    private int Assemble(int position, uint totalLength, int firstPart, Lsn lsn)
    {
        // Grow only as pages confirm the record, so a wild length cannot force a huge allocation.
        EnsureAssembly(Math.Min((int)totalLength, firstPart + (int)_pageSize));
        _segment.AsSpan(position, firstPart).CopyTo(_assembly);
        var collected = firstPart;
        var current = position + firstPart;
        while (collected < totalLength)
        {
            if (current >= _segmentLength)
            {
                if (!LoadNextSegment())
                {
                    Finish(WalReadEnd.IncompleteRecord, lsn);
                    return -1;
                }

                current = 0;
            }

            if (IsZeroPageHeader(current))
            {
                FinishAtZeros(lsn);
                return -1;
            }

            var header = ValidatePageHeader(current, out var stale);
            if (stale)
            {
                FinishStale(lsn);
                return -1;
            }

            if ((header.Flags & WalPageFlags.FirstIsOverwriteContinuation) != 0)
            {
                _position = current + header.Size;
                _previousRecord = Lsn.Invalid;
                ChainReset = true;
                return -2;
            }

            var missing = totalLength - (uint)collected;
            if (!header.IsContinuation)
                throw Error(WalErrorKind.BadContinuation, current, $"record at {lsn} needs {missing} more bytes, but this page does not continue it");
            if (header.RemainingLength != missing)
                throw Error(WalErrorKind.BadContinuation, current + 16,
                    $"page says {header.RemainingLength} bytes of the record at {lsn} remain, but {missing} do");

            var chunk = (int)Math.Min(missing, _pageSize - (uint)header.Size);
            EnsureAssembly(collected + chunk);
            _segment.AsSpan(current + header.Size, chunk).CopyTo(_assembly.AsSpan(collected));
            collected += chunk;
            current += header.Size + chunk;
        }

        return current;
    }

    private void EnsureAssembly(int size)
    {
        if (_assembly.Length >= size) return;
        // Start at 64 KiB so that ordinary page-crossing records never need a second buffer.
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(Math.Max(size, 64 * 1024), Math.Min(_assembly.Length * 2, (int)WalRecord.MaxTotalLength)));
        _assembly.AsSpan().CopyTo(grown);
        if (_assembly.Length > 0) ArrayPool<byte>.Shared.Return(_assembly);
        _assembly = grown;
    }

    /// <summary>When reading starts at a segment whose first page continues an earlier record, skips that tail.</summary>
    private bool SkipLeadingContinuation()
    {
        var header = ValidatePageHeader(0, out _);
        if (!header.IsContinuation) return true;
        var missing = header.RemainingLength;
        var current = header.Size;
        while (true)
        {
            var chunk = (int)Math.Min(missing, _pageSize - (uint)(current % _pageSize));
            missing -= (uint)chunk;
            current += chunk;
            if (missing == 0) break;
            if (current >= _segmentLength)
            {
                if (!LoadNextSegment()) return Finish(WalReadEnd.EndOfFiles, _segmentStart + (ulong)_segmentLength);
                current = 0;
            }

            var next = ValidatePageHeader(current, out _);
            if (!next.IsContinuation || next.RemainingLength != missing)
                throw Error(WalErrorKind.BadContinuation, current, $"the skipped record should continue here with {missing} bytes");
            current += next.Size;
        }

        _position = Align8(current);
        return true;
    }

    /// <summary>The source after the current one, looked up once.</summary>
    private WalSegmentSource? SourceAfterCurrent()
    {
        var index = _sourceIndex + 1;
        if (_lookupIndex != index)
        {
            _lookup = _sourceAt(index);
            _lookupIndex = index;
        }

        return _lookup;
    }

    private bool LoadNextSegment()
    {
        CloseSegment();
        var source = SourceAfterCurrent();
        if (source is null) return false;

        var first = _sourceIndex < 0;
        var previous = _current;
        _sourceIndex++;
        _current = source;
        // A framer reads the segment after its own only as far as a record crossing into it needs, and its own
        // segment's buffer may hold the framed records by now: the next one goes into a buffer of its own, small.
        var following = _singleSegment && !first;
        if (following && _sourceIndex == 1)
        {
            _firstSegment = _segment;
            _segment = [];
        }

        _loader = SegmentLoader.Open(source, ref _segment, growing: following);
        var length = _loader.Size;
        var header = _loader.Header;
        if (first)
        {
            SegmentSize = header.SegmentSize;
            _pageSize = header.PageSize;
            SystemIdentifier = header.SystemIdentifier;
            if (SegmentSize % _pageSize != 0)
                throw Error(WalErrorKind.BadPageHeader, 32, $"segment size {SegmentSize} is not a multiple of the page size {_pageSize}");
        }
        else
        {
            if (header.SegmentSize != SegmentSize || header.PageSize != _pageSize)
                throw new WalFormatException(WalErrorKind.BadPageHeader, source.FileName, 32, header.PageAddress,
                    $"segment size {header.SegmentSize} / page size {header.PageSize} differ from the first segment's {SegmentSize} / {_pageSize}");
            if (header.SystemIdentifier != SystemIdentifier)
                throw new WalFormatException(WalErrorKind.BadPageHeader, source.FileName, 24, header.PageAddress,
                    $"system identifier {header.SystemIdentifier} differs from the first segment's {SystemIdentifier}: WAL of another cluster");
        }

        _timeline = source.Name.Timeline;
        var number = source.Name.SegmentNumber(SegmentSize);
        _timelineEnd = TimelineEndOf(source.Name, new Lsn(number * SegmentSize));
        if (!first && number != _segmentNumber + 1)
        {
            var expected = WalSegmentName.Format(_timeline, _segmentNumber + 1, SegmentSize);
            throw new WalFormatException(WalErrorKind.Gap, source.FileName, 0, new Lsn((_segmentNumber + 1) * SegmentSize),
                number <= _segmentNumber ? $"segment given twice (after {previous!.FileName})" : $"segment {expected} is missing before this one");
        }

        if (first) FirstSegmentNumber = number;
        _segmentNumber = number;
        _segmentStart = new Lsn(number * SegmentSize);
        _segmentLength = length;
        _position = 0;
        return true;
    }

    /// <summary>Checks the whole current file (length, no extra bytes) and releases it.</summary>
    private void CloseSegment()
    {
        if (_loader is null) return;
        try
        {
            // A framer reads the segment after its own only as far as a crossing record needs;
            // that segment's own framer checks the whole file.
            if (!_singleSegment || _sourceIndex == 0) _loader.Complete();
        }
        finally
        {
            _loader.Dispose();
            _loader = null;
        }
    }

    /// <summary>Brings the page at <paramref name="position"/> into the buffer before it is looked at.</summary>
    private void LoadPage(int position)
    {
        _loader!.EnsureLoaded(position + (int)_pageSize);
        // A following segment's buffer grows as it is read.
        _segment = _loader.Buffer;
    }

    /// <summary>
    /// Single-segment mode: hands the first segment's buffer over to the caller, who owns it from now on (gives it back
    /// to <see cref="SegmentBuffers"/>) and may overwrite what was read of it already: the bytes before the record
    /// last located ends. The locator reads on in it, only ahead of that point, and reads the next segments elsewhere.
    /// </summary>
    public byte[] TakeFirstSegmentBuffer()
    {
        if (!_singleSegment || _firstSegmentTaken || _sourceIndex < 0)
            throw new InvalidOperationException("only a single-segment locator's first segment, once loaded, can be taken, once");
        _firstSegmentTaken = true;
        return _sourceIndex == 0 ? _segment : _firstSegment;
    }

    private bool IsZeroPageHeader(int position)
    {
        LoadPage(position);
        return _segment.AsSpan(position, WalPageHeader.ShortSize).IndexOfAnyExcept((byte)0) < 0;
    }

    private WalPageHeader ValidatePageHeader(int position, out bool stale)
    {
        stale = false;
        LoadPage(position);
        var header = WalPageHeader.Read(_segment.AsSpan(position));
        var expected = _segmentStart + (ulong)position;
        if (header.Magic != WalPageHeader.Pg18Magic)
            throw Error(WalErrorKind.BadMagic, position, $"page has magic 0x{header.Magic:X4}, expected 0x{WalPageHeader.Pg18Magic:X4}");
        if ((header.Flags & ~WalPageFlags.AllKnown) != 0)
            throw Error(WalErrorKind.BadPageHeader, position + 2, $"page has unknown flag bits 0x{(ushort)header.Flags:X4}");
        if (header.IsLong != (position == 0))
            throw Error(WalErrorKind.BadPageHeader, position + 2,
                position == 0 ? "first page of a segment lacks the long header" : "long header on a page that is not the first of its segment");
        if (header.PageAddress != expected)
        {
            // A .partial file written at promotion may end in an old recycled segment's pages.
            if (header.PageAddress < expected && _current!.Name.IsPartial && SourceAfterCurrent() is null)
            {
                stale = true;
                return header;
            }

            throw Error(WalErrorKind.BadPageAddress, position + 8, $"page says it is at {header.PageAddress}, but it is at {expected}");
        }

        // Pages copied from the old timeline at a switch keep its number; PostgreSQL only requires that
        // timelines never go backwards (xlogreader.c, XLogReaderValidatePageHeader).
        if (header.Timeline > _timeline || header.Timeline < _lastPageTimeline || header.Timeline == 0 ||
            _history is { } history && !history.Contains(header.Timeline))
            throw Error(WalErrorKind.UnexpectedTimeline, position + 4,
                $"page is on timeline {header.Timeline}; its file is on timeline {_timeline}, the previous page on {_lastPageTimeline}");
        _lastPageTimeline = header.Timeline;
        if (_sourceIndex == 0)
        {
            if (FirstSegmentFirstPageTimeline == 0) FirstSegmentFirstPageTimeline = header.Timeline;
            FirstSegmentLastPageTimeline = header.Timeline;
        }

        if (header.IsContinuation && header.RemainingLength == 0)
            throw Error(WalErrorKind.BadContinuation, position + 16, "page continues a record but says 0 bytes remain");
        return header;
    }

    private bool FinishAtZeros(Lsn at)
    {
        if (SourceAfterCurrent() is { } later)
            throw Error(WalErrorKind.Gap, (int)(at.Value - _segmentStart.Value),
                $"valid WAL ends here but later segment files follow ({later.FileName} next)");
        return Finish(WalReadEnd.ZeroedTail, at);
    }

    private bool FinishStale(Lsn at) => Finish(WalReadEnd.StalePartialTail, at);

    /// <summary>
    /// Where the WAL of this copy stops counting: for an older timeline's copy of a segment its timeline ended in
    /// (or after), that end; the rule is <see cref="SegmentChain"/>'s, so both readers agree with the chain chosen.
    /// </summary>
    private Lsn TimelineEndOf(WalSegmentName name, Lsn segmentStart)
    {
        if (_history is null) return SegmentChain.NoEnd;
        var owner = _history.OwnerOfSegment(segmentStart, SegmentSize);
        return name.Timeline == owner ? SegmentChain.NoEnd : _history.EndOf(name.Timeline) ?? SegmentChain.NoEnd;
    }

    private bool FinishAtTimelineEnd()
    {
        var at = _timelineEnd;
        if (SourceAfterCurrent() is not null)
            throw Error(WalErrorKind.Gap, (int)(at.Value - _segmentStart.Value),
                $"timeline {_timeline} ends here and the next timeline's copy of {CurrentFileName} is missing, but later segment file(s) follow");
        return Finish(WalReadEnd.TimelineEnded, at);
    }

    private bool Finish(WalReadEnd end, Lsn at)
    {
        // Even where valid WAL ends early, the file must still be a whole segment.
        CloseSegment();
        End = end;
        EndLsn = at;
        return false;
    }

    private WalFormatException Error(WalErrorKind kind, int position, string detail) =>
        new(kind, CurrentFileName, position, _segmentStart + (ulong)position, detail);

    private static int Align8(int value) => (value + 7) & ~7;

    public void Dispose()
    {
        _loader?.Dispose();
        _loader = null;
        if (_assembly.Length > 0) ArrayPool<byte>.Shared.Return(_assembly);
        // Past the first segment of a single-segment read, the current buffer is a growing one (not pooled) and the
        // first segment's waits here unless it was taken; otherwise the current one is the pooled one, unless taken.
        if (_singleSegment && _sourceIndex > 0)
        {
            if (!_firstSegmentTaken) SegmentBuffers.Shared.Return(_firstSegment);
        }
        else if (!_firstSegmentTaken)
        {
            SegmentBuffers.Shared.Return(_segment);
        }

        _assembly = [];
        _segment = [];
        _firstSegment = [];
        RecordBuffer = [];
    }
}
