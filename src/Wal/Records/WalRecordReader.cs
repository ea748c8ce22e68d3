using DataSync.Wal.Segments;

namespace DataSync.Wal.Records;

/// <summary>
/// Iterates the records of consecutive WAL segments of one timeline in LSN order, checking every
/// page header and every record CRC (src/backend/access/transam/xlogreader.c is the model).
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
/// </remarks>
public sealed class WalRecordReader : IWalRecordSource
{
    private readonly WalSegmentSource[] _sources;
    private readonly WalReaderOptions _options;
    private readonly WalRecord _record;
    private readonly WalRecordLocator _locator;
    private bool _disposed;

    public WalRecordReader(IEnumerable<WalSegmentSource> sources, WalReaderOptions? options = null)
    {
        _options = options ?? new WalReaderOptions();
        // Name order is LSN order within a timeline whatever the segment size.
        _sources = sources.OrderBy(s => s.Name.Log).ThenBy(s => s.Name.Seg).ThenBy(s => s.Name.Timeline).ToArray();
        _record = new WalRecord(_options.BlockSize);
        _locator = new WalRecordLocator(i => i < _sources.Length ? _sources[i] : null, _options.Timeline, singleSegment: false);
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

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _locator.Dispose();
    }
}
