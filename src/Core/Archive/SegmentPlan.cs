using DataSync.Wal.Segments;

namespace DataSync.Core.Archive;

/// <summary>What the archive offers after the last segment taken: the next segments in order, or a gap.</summary>
public sealed record SegmentPlan(IReadOnlyList<ArchiveEntry> Next, string? MissingSegment)
{
    /// <summary>
    /// Chooses, from an archive listing, the segments that follow <paramref name="lastTaken"/> without a hole
    /// (at most <paramref name="limit"/>). When the next one is absent but a later one of the same timeline is
    /// there, the archive has a gap: nothing past it may be used, and <see cref="MissingSegment"/> names it.
    /// Compressed variants (.gz, .zst, .lz4) count as the segment they hold; .partial files are not complete segments.
    /// </summary>
    public static SegmentPlan After(string lastTaken, IReadOnlyList<ArchiveEntry> listing, uint segmentSize, int limit = 64)
    {
        if (!WalSegmentName.TryParse(lastTaken, out var last))
            throw new ArgumentException($"'{lastTaken}' is not a WAL segment name", nameof(lastTaken));

        var byNumber = new SortedDictionary<ulong, ArchiveEntry>();
        foreach (var entry in listing)
        {
            if (!WalSegmentName.TryParse(entry.Name, out var name) || name.IsPartial || name.Timeline != last.Timeline) continue;
            var number = name.SegmentNumber(segmentSize);
            // A plain copy is preferred to a compressed one of the same segment: nothing to undo.
            if (!byNumber.TryGetValue(number, out var existing) || (name.CompressionSuffix.Length == 0 && existing.Name.Length > WalSegmentName.HexLength))
                byNumber[number] = entry;
        }

        var next = new List<ArchiveEntry>();
        var expected = last.SegmentNumber(segmentSize) + 1;
        while (next.Count < limit && byNumber.TryGetValue(expected, out var entry))
        {
            next.Add(entry);
            expected++;
        }

        var gap = next.Count < limit && byNumber.Keys.Any(n => n > expected)
            ? WalSegmentName.Format(last.Timeline, expected, segmentSize)
            : null;
        return new SegmentPlan(next, gap);
    }
}
