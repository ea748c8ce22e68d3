using DataSync.Wal.Catalog;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Changes;

/// <summary>
/// Logical decoding of archived WAL for the synced tables: segments in, committed transactions out,
/// in commit order, each with its row changes (COPY BINARY rows) and catalog events.
/// </summary>
/// <remarks>
/// Give it the segments from the one holding <c>start</c> on. Records of that segment before
/// <c>start</c> are read too, only to learn which transactions were already running there.
/// Consume each transaction's changes before asking for the next one.
/// </remarks>
public sealed class ChangeDecoder : IDisposable
{
    private readonly WalRecordReader _reader;
    private readonly TransactionReassembler _reassembler;

    public ChangeDecoder(CatalogSnapshot catalog, CatalogLocations? locations, IEnumerable<WalSegmentSource> segments, Lsn start,
        ReassemblerOptions? options = null, WalReaderOptions? readerOptions = null)
    {
        Start = start;
        _reader = new WalRecordReader(segments, (readerOptions ?? new WalReaderOptions()) with { StartLsn = Lsn.Invalid });
        _reassembler = new TransactionReassembler(catalog, locations, start, options);
    }

    public Lsn Start { get; }

    public TransactionReassembler Reassembler => _reassembler;

    /// <summary>Why reading stopped, once it has.</summary>
    public WalReadEnd End => _reader.End;

    /// <summary>Where the valid WAL read ends (once <see cref="End"/> is set).</summary>
    public Lsn EndLsn => _reader.EndLsn;

    /// <summary>The timeline of the segment file read last (after a switch, the new one).</summary>
    public uint Timeline => _reader.Timeline;

    /// <summary>WAL records read so far (from the start of the first segment).</summary>
    public long RecordCount { get; private set; }

    public IEnumerable<CommittedTransaction> Transactions()
    {
        while (_reader.MoveNext())
        {
            RecordCount++;
            var committed = _reassembler.Process(_reader.Current);
            if (committed is not null) yield return committed;
        }
    }

    public void Dispose()
    {
        _reassembler.Dispose();
        _reader.Dispose();
    }
}
