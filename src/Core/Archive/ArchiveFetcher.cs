using DataSync.Wal;
using DataSync.Wal.Segments;

namespace DataSync.Core.Archive;

/// <summary>What one pass over the archive brought: how many segments were spooled, and the first missing one when the archive has a gap.</summary>
public sealed record FetchResult(int Fetched, string? MissingSegment);

/// <summary>
/// Brings archive segments into the spool in order and never past a gap. This is the archive watcher's
/// work as plain code: the watcher only decides when to call it and whom to tell.
/// </summary>
public sealed class ArchiveFetcher(IArchiveSource archive, WalSpool spool, uint segmentSize)
{
    public IArchiveSource Archive => archive;

    public WalSpool Spool => spool;

    /// <summary>
    /// Fetches every segment that follows the newest spooled one without a hole. With an empty spool it
    /// starts at the segment holding <paramref name="startWhenEmpty"/> (the stream's restart point or the
    /// base backup's start); with neither it does nothing.
    /// </summary>
    public async Task<FetchResult> FetchNewAsync(Lsn? startWhenEmpty, uint timelineWhenEmpty, CancellationToken cancellationToken)
    {
        var spooled = spool.Segments();
        string? after = spooled.Count > 0 ? spooled[^1] : null;
        if (after is null)
        {
            if (startWhenEmpty is not { } start) return new FetchResult(0, null);
            var first = start.Value / segmentSize;
            after = WalSegmentName.Format(timelineWhenEmpty, first == 0 ? 0 : first - 1, segmentSize);
        }

        var listing = await archive.ListAsync(cancellationToken).ConfigureAwait(false);
        var fetched = 0;
        while (true)
        {
            var plan = SegmentPlan.After(after, listing, segmentSize);
            foreach (var entry in plan.Next)
            {
                after = await spool.FetchAsync(archive, entry, cancellationToken).ConfigureAwait(false);
                fetched++;
            }

            if (plan.Next.Count == 0 || plan.MissingSegment is not null) return new FetchResult(fetched, plan.MissingSegment);
        }
    }

    /// <summary>
    /// Makes sure the spool holds every segment from <paramref name="firstSegment"/> on (a resync needs the
    /// WAL since its base backup, which the stream may have cleaned away already).
    /// </summary>
    public async Task FetchFromAsync(string firstSegment, CancellationToken cancellationToken)
    {
        WalSegmentName.TryParse(firstSegment, out var first);
        var spooled = spool.Segments();
        var stopAt = spooled.Count > 0 ? spooled[0] : null;
        if (stopAt is not null && string.CompareOrdinal(stopAt, firstSegment) <= 0) return;
        var listing = await archive.ListAsync(cancellationToken).ConfigureAwait(false);
        var after = WalSegmentName.Format(first.Timeline, first.SegmentNumber(segmentSize) - 1, segmentSize);
        foreach (var entry in SegmentPlan.After(after, listing, segmentSize, int.MaxValue).Next)
        {
            if (stopAt is not null && string.CompareOrdinal(entry.Name[..WalSegmentName.HexLength], stopAt) >= 0) break;
            await spool.FetchAsync(archive, entry, cancellationToken).ConfigureAwait(false);
        }

        if (!spool.Contains(firstSegment))
            throw new InvalidOperationException($"WAL segment {firstSegment}, where the newest base backup starts, is not in the archive {archive.Description}");
    }
}
