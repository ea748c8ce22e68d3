using DataSync.Wal;
using DataSync.Wal.Segments;

namespace DataSync.Core.Archive;

/// <summary>
/// What the archive offers after the last segment taken: the next segments in order (possibly moving on to a newer
/// timeline), or a gap.
/// </summary>
/// <param name="Timeline">The timeline the plan follows: the last segment's, or a newer one whose history contains it.</param>
/// <param name="Unfollowable">
/// A newer timeline than the one followed that branched off it before the last segment taken (a point-in-time
/// recovery to an earlier moment): WAL already taken is not in its past, so it cannot be followed; the tables must be
/// resynced from a base backup of it. Null when there is none.
/// </param>
public sealed record SegmentPlan(IReadOnlyList<ArchiveEntry> Next, string? MissingSegment, uint Timeline, TimelineHistory? Unfollowable = null)
{
    /// <summary>What to tell the user about <see cref="Unfollowable"/>, once.</summary>
    public string? UnfollowableMessage => Unfollowable is { } fork
        ? $"timeline {fork.Timeline} (history file {fork.Timeline:X8}.history) branched off timeline {Timeline} at {fork.EndOf(Timeline)}, " +
          $"before WAL the sync has already taken; it cannot be followed: take a base backup on timeline {fork.Timeline}, then resync the tables"
        : null;

    /// <summary>
    /// Chooses, from an archive listing, the segments that follow <paramref name="lastTaken"/> without a hole
    /// (at most <paramref name="limit"/>). When the next one is absent but a later one of the timeline followed is
    /// there, the archive has a gap: nothing past it may be used, and <see cref="MissingSegment"/> names it.
    /// Compressed variants (.gz, .zst, .lz4) count as the segment they hold; a .partial is never a complete segment
    /// (PostgreSQL archives the old timeline's last, unfinished segment so at a promotion): when it is the only copy, the plan waits.
    /// It also waits at the newest segment when that is a plain file shorter than a segment: archive_command is still copying it.
    /// </summary>
    /// <remarks>
    /// Timelines are followed as PostgreSQL's <c>recovery_target_timeline = 'latest'</c> does: of the
    /// <paramref name="histories"/> (the archive's <c>.history</c> files) that contain the last segment's timeline,
    /// the newest whose switch away from it falls in or after that segment is followed. Each later segment is then
    /// taken from the timeline that owns it (<see cref="TimelineHistory.OwnerOfSegment"/>): the new timeline from the
    /// segment its switch point falls in, that is its own copy of that segment, never the old timeline's segments
    /// past the switch. A switch inside the last segment taken means that segment is taken again, from the new timeline.
    /// </remarks>
    public static SegmentPlan After(string lastTaken, IReadOnlyList<ArchiveEntry> listing, uint segmentSize, int limit = 64,
        IReadOnlyCollection<TimelineHistory>? histories = null)
    {
        if (!WalSegmentName.TryParse(lastTaken, out var last))
            throw new ArgumentException($"'{lastTaken}' is not a WAL segment name", nameof(lastTaken));
        var lastNumber = last.SegmentNumber(segmentSize);
        var target = Follow(last.Timeline, lastNumber, segmentSize, histories ?? []);
        uint OwnerOf(ulong number) => target?.OwnerOfSegment(new Lsn(number * segmentSize), segmentSize) ?? last.Timeline;

        var complete = new Dictionary<(uint Timeline, ulong Number), ArchiveEntry>();
        foreach (var entry in listing)
        {
            if (!WalSegmentName.TryParse(entry.Name, out var name) || name.IsPartial) continue;
            var key = (name.Timeline, name.SegmentNumber(segmentSize));
            // A plain copy is preferred to a compressed one of the same segment: nothing to undo.
            if (!complete.TryGetValue(key, out var existing) || (name.CompressionSuffix.Length == 0 && existing.Name.Length > WalSegmentName.HexLength))
                complete[key] = entry;
        }

        var next = new List<ArchiveEntry>();
        var expected = OwnerOf(lastNumber) == last.Timeline ? lastNumber + 1 : lastNumber;
        while (next.Count < limit && complete.TryGetValue((OwnerOf(expected), expected), out var entry))
        {
            if (BeingWritten(entry, expected)) break;
            next.Add(entry);
            expected++;
        }

        // Only segments that the timeline followed would read make a hole: the old timeline's past the switch do not.
        var gap = next.Count < limit && complete.Keys.Any(k => k.Number > expected && k.Timeline == OwnerOf(k.Number))
            ? WalSegmentName.Format(OwnerOf(expected), expected, segmentSize)
            : null;
        var followed = target?.Timeline ?? last.Timeline;

        // An archive_command that copies in place (cp %p dir/%f) leaves a short plain file while it writes. The
        // newest segment, plain and shorter than a segment, is still being written: wait for it. A short one
        // with later segments after it is not; it is taken, and fails its checks as the truncated file it is.
        bool BeingWritten(ArchiveEntry entry, ulong number) =>
            WalSegmentName.TryParse(entry.Name, out var name) && name.CompressionSuffix.Length == 0 && entry.Size < segmentSize &&
            !complete.Keys.Any(k => k.Number > number);
        var unfollowable = (histories ?? [])
            .Where(h => h.Timeline > followed && h.EndOf(followed) is { } end && end.Value / segmentSize < lastNumber)
            .MaxBy(h => h.Timeline);
        return new SegmentPlan(next, gap, followed, unfollowable);
    }

    /// <summary>
    /// The history of the newest timeline that continues <paramref name="timeline"/> from the segment
    /// <paramref name="lastNumber"/> on, or null to stay on it. A timeline that forked off before that segment cannot be
    /// followed: WAL of the old timeline past its fork has been taken already (PostgreSQL refuses such a timeline too).
    /// </summary>
    public static TimelineHistory? Follow(uint timeline, ulong lastNumber, uint segmentSize, IEnumerable<TimelineHistory> histories) =>
        histories
            .Where(h => h.Timeline > timeline && h.EndOf(timeline) is { } end && end.Value / segmentSize >= lastNumber)
            .MaxBy(h => h.Timeline);
}
