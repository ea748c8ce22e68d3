namespace DataSync.Wal.Segments;

/// <summary>One segment of a <see cref="SegmentChain"/>: which given file to read, and where its timeline's WAL stops counting.</summary>
/// <param name="Index">Position of the file in the list given to <see cref="SegmentChain.Choose"/>.</param>
/// <param name="TimelineEnd">
/// Where the file's timeline ended on the way to the timeline being read; WAL of this copy from there on
/// belongs to a dead branch. <see cref="Lsn"/> of <see cref="ulong.MaxValue"/> when it has not ended (or no history says so).
/// </param>
public readonly record struct ChainLink(int Index, WalSegmentName Name, Lsn TimelineEnd);

/// <summary>
/// Chooses, among segment files that may belong to several timelines, the one copy of each segment to
/// read, in WAL order. After a timeline switch the archive holds the old timeline's segments (and often a
/// <c>.partial</c> of the one the switch fell in) and the new timeline's, which starts with its own copy of
/// the switch segment; a dead old primary may even have gone on writing the old timeline.
/// </summary>
/// <remarks>
/// The rule is PostgreSQL's recovery rule (xlogrecovery.c, XLogFileReadAnyTLI): a segment is read from the
/// newest timeline of the history that had begun before the segment ends, and never from a timeline older
/// than the previous segment's. Without a history file the newest copy given is taken, with the same
/// never-backwards rule; the records' previous-record links then catch a copy that does not continue the chain.
/// When the owning timeline's copy is missing but an older timeline's copy is given (typically the
/// <c>.partial</c>), that copy is read only up to where its timeline ended.
/// </remarks>
public static class SegmentChain
{
    public static readonly Lsn NoEnd = new(ulong.MaxValue);

    /// <param name="names">The files given, in any order.</param>
    /// <param name="segmentSize">Needed only with a <paramref name="history"/> (to place switch points in segments).</param>
    /// <param name="timeline">The newest timeline to read; null: the history's, or else the newest among the files.</param>
    /// <param name="history">The history file of that timeline, when known.</param>
    public static IReadOnlyList<ChainLink> Choose(IReadOnlyList<WalSegmentName> names, uint segmentSize, uint? timeline, TimelineHistory? history)
    {
        if (names.Count == 0) return [];
        if (history is not null && timeline is { } asked && asked != history.Timeline)
            throw new ArgumentException($"the history given is timeline {history.Timeline}'s, but timeline {asked} is to be read", nameof(history));
        var target = timeline ?? history?.Timeline ?? names.Max(n => n.Timeline);

        for (var i = 0; i < names.Count; i++)
        {
            var name = names[i];
            if (name.Timeline > target)
                throw new WalFormatException(WalErrorKind.UnexpectedTimeline, name.ToString(), 0, Lsn.Invalid,
                    $"segment belongs to timeline {name.Timeline}, newer than timeline {target} being read");
            if (history is not null && !history.Contains(name.Timeline))
                throw new WalFormatException(WalErrorKind.UnexpectedTimeline, name.ToString(), 0, Lsn.Invalid,
                    $"segment belongs to timeline {name.Timeline}, which is not in the history of timeline {target}");
        }

        var chain = new List<ChainLink>();
        uint current = 0;
        // Name order is LSN order whatever the segment size; grouping by (log, seg) needs no size either.
        foreach (var group in Enumerable.Range(0, names.Count).GroupBy(i => ((ulong)names[i].Log << 32) | names[i].Seg).OrderBy(g => g.Key))
        {
            var owner = history is not null && segmentSize > 0
                ? history.OwnerOfSegment(names[group.First()].StartLsn(segmentSize), segmentSize)
                : group.Max(i => names[i].Timeline);
            // Copies older than the previous segment's timeline are past their timeline's end (a dead branch);
            // copies newer than the owner cannot exist in a consistent archive and are not PostgreSQL's choice either.
            var usable = group.Where(i => names[i].Timeline >= current && names[i].Timeline <= owner).ToList();
            if (usable.Count == 0) continue;
            var newest = usable.Max(i => names[i].Timeline);
            var copies = usable.Where(i => names[i].Timeline == newest).ToList();
            var complete = copies.Where(i => !names[i].IsPartial).ToList();
            if (complete.Count > 1)
                throw new WalFormatException(WalErrorKind.Gap, names[complete[1]].ToString(), 0, Lsn.Invalid,
                    $"segment given twice (also as {names[complete[0]]})");
            var pick = complete.Count == 1 ? complete[0] : copies[0];
            var end = newest == owner ? NoEnd : history?.EndOf(newest) ?? NoEnd;
            chain.Add(new ChainLink(pick, names[pick], end));
            current = newest;
        }

        return chain;
    }
}
