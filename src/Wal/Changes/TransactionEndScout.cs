using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;
using DataSync.Wal.Segments;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Changes;

/// <summary>
/// Looks ahead of the decoder, in the WAL segments already at hand (the spool of a catch-up), for the record that ends
/// a given transaction. A big transaction of a backlog whose commit is found there can have its rows applied while the
/// decoder is still reading them (<see cref="ReassemblerOptions.EndAhead"/>), instead of all of them after its commit.
/// </summary>
/// <remarks>
/// It reads the segments with their page and record checks, as the decoder will, and reports only what it read
/// intact: a damaged or missing segment ends the look (nothing found), and the decoder reports the damage when it
/// gets there. One look costs one more read of the segments between the decoder and the end found (or the last one at
/// hand); a later look for a transaction not found goes on where the last one stopped.
/// </remarks>
/// <param name="segmentsFrom">The segments at hand in order from the one holding the given position on, as the decoder will read them.</param>
public sealed class TransactionEndScout(Func<Lsn, IReadOnlyList<WalSegmentSource>> segmentsFrom, WalReaderOptions? options = null)
{
    /// <summary>Segments read by the looks so far (for tests and diagnostics).</summary>
    public long SegmentsRead { get; private set; }

    // Where an earlier look for a transaction that was not found stopped reading: the next look for it goes on from
    // there, so a long transaction at the end of a long backlog costs one read of it, not one per look.
    private readonly Dictionary<uint, Lsn> _readThrough = [];

    /// <summary>The first record at or after <paramref name="from"/> that ends top-level transaction <paramref name="xid"/>; null when the WAL at hand ends first.</summary>
    public TransactionEnd? Find(uint xid, Lsn from)
    {
        if (_readThrough.TryGetValue(xid, out var through) && through > from) from = through;
        var segments = segmentsFrom(from);
        if (segments.Count == 0) return null;
        using var reader = new WalRecordReader(segments, options);
        string? file = null;
        try
        {
            while (reader.MoveNext())
            {
                if (reader.CurrentFileName != file)
                {
                    file = reader.CurrentFileName;
                    SegmentsRead++;
                }

                var record = reader.Current;
                if (record.Rmgr != RmgrId.Transaction || record.Lsn < from) continue;
                if (EndOf(record, xid) is { } end)
                {
                    _readThrough.Remove(xid);
                    return end;
                }
            }

            if (reader.EndLsn > from) _readThrough[xid] = reader.EndLsn;
        }
        catch (WalFormatException)
        {
            // Reported by the decoder when it reaches it; nothing past it is known here.
        }

        return null;
    }

    private static TransactionEnd? EndOf(WalRecord record, uint xid)
    {
        switch ((byte)(record.Info & XactOpcodes.OpMask))
        {
            case XactOpcodes.Commit:
            case XactOpcodes.Abort:
                if (record.Xid != xid) return null;
                var finish = XactFinish.Parse(record);
                var commit = finish.IsCommit;
                var changesCatalog = (finish.Xinfo & (XactOpcodes.XinfoHasInvals | XactOpcodes.XinfoHasRelFileLocators)) != 0;
                return new TransactionEnd(xid, commit ? TransactionEndKind.Commit : TransactionEndKind.Abort, record.Lsn, record.EndLsn,
                    PostgresTimestamp.ToDateTimeOffset(finish.XactTime), commit ? finish.Subxacts.ToArray() : [], changesCatalog);
            case XactOpcodes.Prepare:
                var prepare = XactPrepare.Parse(record);
                return prepare.Xid != xid ? null
                    : new TransactionEnd(xid, TransactionEndKind.Prepare, record.Lsn, record.EndLsn, PostgresTimestamp.ToDateTimeOffset(prepare.PreparedAt), [], false);
            default:
                return null;
        }
    }
}
