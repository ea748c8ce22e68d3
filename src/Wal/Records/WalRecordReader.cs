using System.Buffers;
using System.Buffers.Binary;
using DataSync.Wal.Pages;
using DataSync.Wal.Rmgr;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Records;

/// <summary>
/// Iterates the records of consecutive WAL segments in LSN order, checking every page header and
/// every record CRC (src/backend/access/transam/xlogreader.c is the model).
/// </summary>
/// <remarks>
/// <para>A segment is read whole into one reused buffer. A record that lies within one page is
/// returned as a view of that buffer; only a record that crosses pages is copied (into a pooled
/// buffer), so the common case costs no allocation and no copy.</para>
/// <para>Reading may start at any segment: when its first page begins with the tail of a record
/// from the previous segment, that tail is skipped. Reading stops without error at the end of the
/// valid WAL (see <see cref="End"/>); everything else that does not fit the format is a
/// <see cref="WalFormatException"/> naming file, offset and LSN.</para>
/// <para>The segments may come from several timelines: <see cref="SegmentChain"/> picks one copy of each
/// segment (the new timeline's from the segment its switch point falls in, as PostgreSQL's recovery does),
/// and a page may carry an older timeline than its file's, in the part a promotion copied from the old
/// timeline; timelines never go backwards from page to page.</para>
/// </remarks>
public sealed class WalRecordReader : IDisposable
{
    private readonly WalSegmentSource[] _given;
    private WalSegmentSource[] _sources = [];
    private Lsn[] _timelineEnds = [];
    private Lsn _timelineEnd = SegmentChain.NoEnd;
    private bool _chained;
    private readonly WalReaderOptions _options;
    private readonly WalRecord _record;
    private byte[] _segment = [];
    private SegmentLoader? _loader;
    private byte[] _assembly = [];
    private int _segmentLength;
    private int _sourceIndex = -1;
    private Lsn _segmentStart;
    private ulong _segmentNumber;
    private uint _pageSize;
    private uint _timeline;
    private uint _lastPageTimeline;
    private int _position;
    private Lsn _previousRecord;
    private bool _disposed;

    public WalRecordReader(IEnumerable<WalSegmentSource> sources, WalReaderOptions? options = null)
    {
        _options = options ?? new WalReaderOptions();
        _given = sources.ToArray();
        _record = new WalRecord(_options.BlockSize);
    }

    /// <summary>Reads the given segment files (plain, .partial, .gz, .zst or .lz4) in LSN order.</summary>
    public static WalRecordReader OpenFiles(IEnumerable<string> paths, WalReaderOptions? options = null) =>
        new(paths.Select(WalSegmentSource.FromFile).ToList(), options);

    /// <summary>The current record; reused, valid until the next <see cref="MoveNext"/>.</summary>
    public WalRecord Current => _record;

    public WalReadEnd End { get; private set; }

    /// <summary>Once <see cref="End"/> is set: the position where valid WAL ends, where reading would resume.</summary>
    public Lsn EndLsn { get; private set; }

    /// <summary>Known once the first segment is loaded.</summary>
    public uint SegmentSize { get; private set; }
    public uint PageSize => _pageSize;
    public ulong SystemIdentifier { get; private set; }

    /// <summary>The timeline of the file being read now (its pages may carry older ones, copied at a switch).</summary>
    public uint Timeline => _timeline;

    /// <summary>The file being read now, or last read.</summary>
    public string CurrentFileName => _sourceIndex >= 0 && _sourceIndex < _sources.Length ? _sources[_sourceIndex].FileName : "";

    /// <summary>The error that stopped reading, if one did; every later <see cref="MoveNext"/> throws it again.</summary>
    public WalFormatException? Failure { get; private set; }

    /// <summary>
    /// Advances to the next record: true with <see cref="Current"/> set, false at the end of valid WAL
    /// (<see cref="End"/> says why), or a <see cref="WalFormatException"/> for bad input.
    /// </summary>
    public bool MoveNext()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Failure is not null) throw Failure;
        try
        {
            while (true)
            {
                if (End != WalReadEnd.None) return false;
                if (!ReadNext()) return false;
                if (_record.Lsn >= _options.StartLsn) return true;
            }
        }
        catch (WalFormatException e)
        {
            // The reader's position is undefined after bad input: stay failed rather than guess.
            Failure = e;
            throw;
        }
    }

    private bool ReadNext()
    {
        if (_sourceIndex < 0)
        {
            ChooseSegments();
            if (!LoadNextSegment()) return Finish(WalReadEnd.EndOfFiles, Lsn.Invalid);
            if (!SkipLeadingContinuation()) return false;
        }

        while (true)
        {
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

            var result = ReadRecordAt(_position);
            if (result == RecordResult.Returned) return true;
            if (result == RecordResult.Ended) return false;
            // Abandoned: the record was overwritten after a crash; go on at the page's first record.
        }
    }

    private enum RecordResult
    {
        Returned,
        Ended,
        Abandoned,
    }

    private RecordResult ReadRecordAt(int position)
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

        var fileName = _sources[_sourceIndex].FileName;
        var pageLeft = (int)(_pageSize - (uint)position % _pageSize);
        byte[] buffer;
        int offset;
        int end;
        if (totalLength <= pageLeft)
        {
            buffer = _segment;
            offset = position;
            end = position + (int)totalLength;
        }
        else
        {
            var assembled = Assemble(position, totalLength, pageLeft, lsn);
            if (assembled < 0) return assembled == -1 ? RecordResult.Ended : RecordResult.Abandoned;
            buffer = _assembly;
            offset = 0;
            end = assembled;
        }

        var problem = _record.Decode(buffer, offset, totalLength, lsn, fileName, position, out var kind);
        if (problem is not null) throw new WalFormatException(kind, fileName, position, lsn, problem);
        if (_previousRecord.IsValid && _record.PrevLsn != _previousRecord)
            throw new WalFormatException(WalErrorKind.BadRecordHeader, fileName, position + 8, lsn,
                $"record says the previous record is at {_record.PrevLsn}, but it was at {_previousRecord}");

        _position = Align8(end);
        // After XLOG SWITCH the rest of the segment is zeros, page headers included, and the
        // record counts as ending there (as PostgreSQL reports its end).
        if (_record.Rmid == (byte)RmgrId.Xlog && _record.RmgrInfo == 0x40) _position = _segmentLength;
        _record.EndLsn = _segmentStart + (ulong)_position;
        _previousRecord = lsn;
        return RecordResult.Returned;
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

    /// <summary>Picks one copy of each segment among the files given (see <see cref="SegmentChain"/>).</summary>
    private void ChooseSegments()
    {
        if (_chained) return;
        _chained = true;
        var names = _given.Select(s => s.Name).ToList();
        uint segmentSize = 0;
        if (_options.History is not null && _given.Length > 0)
        {
            // Placing switch points in segments needs the segment size, which only a long page header gives.
            var first = Enumerable.Range(0, _given.Length).MinBy(i => ((ulong)names[i].Log << 32) | names[i].Seg);
            using var loader = SegmentLoader.Open(_given[first], ref _segment);
            segmentSize = loader.Header.SegmentSize;
        }

        var chain = SegmentChain.Choose(names, segmentSize, _options.Timeline, _options.History);
        _sources = chain.Select(link => _given[link.Index]).ToArray();
        _timelineEnds = chain.Select(link => link.TimelineEnd).ToArray();
    }

    private bool LoadNextSegment()
    {
        CloseSegment();
        if (_sourceIndex + 1 >= _sources.Length)
        {
            return false;
        }

        var first = _sourceIndex < 0;
        _sourceIndex++;
        var source = _sources[_sourceIndex];
        _loader = SegmentLoader.Open(source, ref _segment);
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
        _timelineEnd = _timelineEnds[_sourceIndex];
        var number = source.Name.SegmentNumber(SegmentSize);
        if (!first && number != _segmentNumber + 1)
        {
            var expected = WalSegmentName.Format(_timeline, _segmentNumber + 1, SegmentSize);
            throw new WalFormatException(WalErrorKind.Gap, source.FileName, 0, new Lsn((_segmentNumber + 1) * SegmentSize),
                number <= _segmentNumber ? $"segment given twice (after {_sources[_sourceIndex - 1].FileName})" : $"segment {expected} is missing before this one");
        }

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
            _loader.Complete();
        }
        finally
        {
            _loader.Dispose();
            _loader = null;
        }
    }

    /// <summary>Brings the page at <paramref name="position"/> into the buffer before it is looked at.</summary>
    private void LoadPage(int position) => _loader!.EnsureLoaded(position + (int)_pageSize);

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
            if (header.PageAddress < expected && _sources[_sourceIndex].Name.IsPartial && _sourceIndex == _sources.Length - 1)
            {
                stale = true;
                return header;
            }

            throw Error(WalErrorKind.BadPageAddress, position + 8, $"page says it is at {header.PageAddress}, but it is at {expected}");
        }

        // Pages copied from the old timeline at a switch keep its number; PostgreSQL only requires that
        // timelines never go backwards (xlogreader.c, XLogReaderValidatePageHeader).
        if (header.Timeline > _timeline || header.Timeline < _lastPageTimeline || header.Timeline == 0 ||
            _options.History is { } history && !history.Contains(header.Timeline))
            throw Error(WalErrorKind.UnexpectedTimeline, position + 4,
                $"page is on timeline {header.Timeline}; its file is on timeline {_timeline}, the previous page on {_lastPageTimeline}");
        _lastPageTimeline = header.Timeline;
        if (header.IsContinuation && header.RemainingLength == 0)
            throw Error(WalErrorKind.BadContinuation, position + 16, "page continues a record but says 0 bytes remain");
        return header;
    }

    private bool FinishAtZeros(Lsn at)
    {
        if (_sourceIndex < _sources.Length - 1)
            throw Error(WalErrorKind.Gap, (int)(at.Value - _segmentStart.Value),
                $"valid WAL ends here but {_sources.Length - 1 - _sourceIndex} later segment file(s) follow");
        return Finish(WalReadEnd.ZeroedTail, at);
    }

    private bool FinishStale(Lsn at) => Finish(WalReadEnd.StalePartialTail, at);

    private bool FinishAtTimelineEnd()
    {
        var at = _timelineEnd;
        if (_sourceIndex < _sources.Length - 1)
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
        if (_disposed) return;
        _disposed = true;
        _loader?.Dispose();
        _loader = null;
        if (_assembly.Length > 0) ArrayPool<byte>.Shared.Return(_assembly);
        if (_segment.Length > 0) ArrayPool<byte>.Shared.Return(_segment);
        _assembly = [];
        _segment = [];
    }
}
