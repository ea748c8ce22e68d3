using DataSync.Wal.Segments;

namespace DataSync.Wal.Records;

/// <summary>
/// Iterates the records of consecutive WAL segments in LSN order, checking every page header and
/// every record CRC (src/backend/access/transam/xlogreader.c is the model).
/// </summary>
/// <remarks>
/// <para>The page walk is <see cref="WalRecordLocator"/>'s, shared with <see cref="SegmentFramer"/>.
/// A segment is read whole into one reused buffer. A record that lies within one page is
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
public sealed class WalRecordReader : IWalRecordSource
{
    private readonly WalSegmentSource[] _given;
    private IReadOnlyList<WalSegmentSource> _sources = [];
    private bool _chained;
    private readonly WalReaderOptions _options;
    private readonly WalRecord _record;
    private readonly WalRecordLocator _locator;
    private bool _disposed;

    public WalRecordReader(IEnumerable<WalSegmentSource> sources, WalReaderOptions? options = null)
    {
        _options = options ?? new WalReaderOptions();
        _given = sources.ToArray();
        _record = new WalRecord(_options.BlockSize);
        _locator = new WalRecordLocator(i => i < _sources.Count ? _sources[i] : null, _options.History, singleSegment: false);
    }

    /// <summary>Reads the given segment files (plain, .partial, .gz, .zst or .lz4) in LSN order.</summary>
    public static WalRecordReader OpenFiles(IEnumerable<string> paths, WalReaderOptions? options = null) =>
        new(paths.Select(WalSegmentSource.FromFile).ToList(), options);

    /// <summary>The current record; reused, valid until the next <see cref="MoveNext"/>.</summary>
    public WalRecord Current => _record;

    public WalReadEnd End => _locator.End;

    /// <summary>Once <see cref="End"/> is set: the position where valid WAL ends, where reading would resume.</summary>
    public Lsn EndLsn => _locator.EndLsn;

    /// <summary>Known once the first segment is loaded.</summary>
    public uint SegmentSize => _locator.SegmentSize;
    public uint PageSize => _locator.PageSize;
    public ulong SystemIdentifier => _locator.SystemIdentifier;
    /// <summary>The timeline of the file being read now (its pages may carry older ones, copied at a switch).</summary>
    public uint Timeline => _locator.Timeline;

    /// <summary>The file being read now, or last read.</summary>
    public string CurrentFileName => _locator.CurrentFileName;

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
            if (!_chained)
            {
                _chained = true;
                _sources = ChooseSegments(_given, _options);
            }

            while (_locator.Next())
            {
                var l = _locator;
                var problem = _record.Decode(l.RecordBuffer, l.RecordOffset, l.RecordLength, l.RecordLsn, l.RecordFileName, l.RecordFileOffset,
                    verifyCrc: true, out var kind);
                if (problem is not null) throw new WalFormatException(kind, l.RecordFileName, l.RecordFileOffset, l.RecordLsn, problem);
                l.Accept(_record.PrevLsn);
                _record.EndLsn = l.RecordEndLsn;
                if (_record.Lsn >= _options.StartLsn) return true;
            }

            return false;
        }
        catch (WalFormatException e)
        {
            // The reader's position is undefined after bad input: stay failed rather than guess.
            Failure = e;
            throw;
        }
    }

    /// <summary>
    /// The one copy of each segment among <paramref name="sources"/> that reading takes, in WAL order (see
    /// <see cref="SegmentChain"/>): what this reader reads, and what to frame for a <see cref="FramedRecordReader"/>
    /// with the same <paramref name="options"/>.
    /// </summary>
    public static IReadOnlyList<WalSegmentSource> ChooseSegments(IReadOnlyList<WalSegmentSource> sources, WalReaderOptions? options = null)
    {
        options ??= new WalReaderOptions();
        var names = sources.Select(s => s.Name).ToList();
        uint segmentSize = 0;
        if (options.History is not null && sources.Count > 0)
        {
            // Placing switch points in segments needs the segment size, which only a long page header gives.
            var first = Enumerable.Range(0, sources.Count).MinBy(i => ((ulong)names[i].Log << 32) | names[i].Seg);
            var buffer = Array.Empty<byte>();
            try
            {
                using var loader = SegmentLoader.Open(sources[first], ref buffer);
                segmentSize = loader.Header.SegmentSize;
            }
            finally
            {
                SegmentBuffers.Shared.Return(buffer);
            }
        }

        return SegmentChain.Choose(names, segmentSize, options.Timeline, options.History).Select(link => sources[link.Index]).ToList();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _locator.Dispose();
    }
}
