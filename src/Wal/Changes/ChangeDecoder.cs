using DataSync.Wal.Catalog;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Changes;

/// <summary>
/// Logical decoding of archived WAL for the synced tables: segments in, committed transactions out,
/// in commit order, each with its row changes (COPY BINARY rows) and catalog events.
/// </summary>
/// <remarks>
/// <para>Give it the segments from the one holding <c>start</c> on. Records of that segment before
/// <c>start</c> are read too, only to learn which transactions were already running there.
/// Consume each transaction's changes before asking for the next one.</para>
/// <para>The segments come either as files read one after the other, or framed in parallel by
/// <see cref="SegmentFramer"/> and handed over in segment order (the enumerable, then
/// <see cref="Append"/>): both give the same transactions, the same end and the same errors.</para>
/// </remarks>
public sealed class ChangeDecoder : IDisposable
{
    private readonly IWalRecordSource _reader;
    private readonly TransactionReassembler _reassembler;

    /// <summary>Reads the segment files one after the other on the calling thread.</summary>
    public ChangeDecoder(CatalogSnapshot catalog, CatalogLocations? locations, IEnumerable<WalSegmentSource> segments, Lsn start,
        ReassemblerOptions? options = null, WalReaderOptions? readerOptions = null)
        : this(new WalRecordReader(segments, (readerOptions ?? new WalReaderOptions()) with { StartLsn = Lsn.Invalid }), catalog, locations, start, options)
    {
    }

    /// <summary>
    /// Decodes segments already framed (<see cref="SegmentFramer.Frame"/>), taken in the order given
    /// (pulled lazily; pass <c>Array.Empty&lt;FramedSegment&gt;()</c> to hand them over with
    /// <see cref="Append"/> instead). The decoder owns every segment it is given and disposes it once
    /// past its records.
    /// </summary>
    public ChangeDecoder(CatalogSnapshot catalog, CatalogLocations? locations, IEnumerable<FramedSegment> segments, Lsn start,
        ReassemblerOptions? options = null, WalReaderOptions? readerOptions = null)
        : this(new FramedRecordReader(segments, (readerOptions ?? new WalReaderOptions()) with { StartLsn = Lsn.Invalid }), catalog, locations, start, options)
    {
    }

    private ChangeDecoder(IWalRecordSource reader, CatalogSnapshot catalog, CatalogLocations? locations, Lsn start, ReassemblerOptions? options)
    {
        Start = start;
        _reader = reader;
        try
        {
            _reassembler = new TransactionReassembler(catalog, locations, start, options);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
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

    /// <summary>
    /// Hands over the next framed segment in order (only for a decoder made from framed segments). When
    /// <see cref="Transactions"/> stopped because the segments ran out (<see cref="WalReadEnd.EndOfFiles"/>),
    /// call it again after appending to go on. After <see cref="WalReadEnd.IncompleteRecord"/> (the last
    /// segment ends inside a record), append that segment framed again once the next one is available,
    /// best from the cut-off record (<c>framer.Frame(segment, decoder.EndLsn)</c>): it goes ahead of later
    /// segments already appended, and records already decoded are skipped.
    /// </summary>
    public void Append(FramedSegment segment)
    {
        if (_reader is not FramedRecordReader framed)
        {
            segment.Dispose();
            throw new InvalidOperationException("this decoder reads segment files; only a decoder made from framed segments takes more");
        }

        framed.Append(segment);
    }

    /// <summary>
    /// The committed transactions of the records available now, in commit order. Ends at the end of the
    /// WAL given so far (<see cref="End"/>); throws the <see cref="WalFormatException"/> of bad WAL after
    /// every transaction that committed before it.
    /// </summary>
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
