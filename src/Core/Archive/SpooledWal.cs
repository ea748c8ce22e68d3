using DataSync.Wal;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Core.Archive;

/// <summary>
/// A stretch of spooled WAL as the decoder reads it: one copy of each segment (the newer timeline's after a
/// switch) and the history that says where each timeline ended (see <see cref="SegmentChain"/>).
/// </summary>
public sealed class SpooledWal(WalSpool spool, IReadOnlyList<string> segments, TimelineHistory? history, uint segmentSize)
{
    /// <summary>The segment files, in WAL order.</summary>
    public IReadOnlyList<string> Segments => segments;

    /// <summary>The history of the newest timeline among them, when the spool has it (timeline 1 has none).</summary>
    public TimelineHistory? History => history;

    public uint Timeline => segments.Count > 0 && WalSegmentName.TryParse(segments[^1], out var last) ? last.Timeline : history?.Timeline ?? 1;

    public WalReaderOptions ReaderOptions => new() { Timeline = Timeline, History = history };

    public IEnumerable<WalSegmentSource> Sources() => segments.Select(s => WalSegmentSource.FromFile(spool.PathOf(s)));

    /// <summary>The name of the segment file that holds <paramref name="lsn"/>: the one read, or the one its timeline would have.</summary>
    public string FileOf(Lsn lsn)
    {
        var number = lsn.Value / segmentSize;
        foreach (var segment in segments)
            if (WalSegmentName.TryParse(segment, out var name) && name.SegmentNumber(segmentSize) == number) return segment;
        return WalSegmentName.Format(history?.OwnerOfSegment(new Lsn(number * segmentSize), segmentSize) ?? Timeline, number, segmentSize);
    }
}
