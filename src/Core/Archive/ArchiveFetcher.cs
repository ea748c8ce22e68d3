using DataSync.Wal;
using DataSync.Wal.Segments;

namespace DataSync.Core.Archive;

/// <summary>
/// What one pass over the archive brought: how many segments were spooled, the first missing one when the
/// archive has a gap, the timeline the spool now follows, and a newer timeline that cannot be followed
/// (<see cref="SegmentPlan.Unfollowable"/>; <paramref name="UnfollowableMessage"/> says what to do), to be reported once.
/// </summary>
/// <param name="SkippedFiles">Archive files left aside as unreadable (a damaged .history), each with why; the rest went on.</param>
public sealed record FetchResult(int Fetched, string? MissingSegment, uint Timeline = 0, TimelineHistory? Unfollowable = null, string? UnfollowableMessage = null,
    IReadOnlyList<(string File, string Problem)>? SkippedFiles = null)
{
    /// <summary>Set when the spool has grown past SPOOL_WARN_MB (see <c>SpoolBound</c>).</summary>
    public Sync.SpoolWarning? SpoolWarning { get; init; }
}

/// <summary>
/// Brings archive segments into the spool in order and never past a gap, following timeline switches
/// (see <see cref="SegmentPlan"/>); timeline history files come along into the spool. This is the archive
/// watcher's work as plain code: the watcher only decides when to call it and whom to tell.
/// </summary>
public sealed class ArchiveFetcher(IArchiveSource archive, WalSpool spool, uint segmentSize)
{
    // History files that failed to download or parse, by name and listed size: not fetched again until they change.
    private readonly Dictionary<(string Name, long Size), string> _badHistories = new();

    public IArchiveSource Archive => archive;

    public WalSpool Spool => spool;

    /// <summary>
    /// Fetches every segment that follows the newest spooled one without a hole. With an empty spool it
    /// starts at the segment holding <paramref name="startWhenEmpty"/> (the stream's restart point or the
    /// base backup's start), on <paramref name="timelineWhenEmpty"/> or the timeline that continues it there;
    /// with neither it does nothing.
    /// </summary>
    /// <param name="segmentSpooled">Told after each segment lands in the spool, so its reader can start on it while later ones are still fetched.</param>
    public async Task<FetchResult> FetchNewAsync(Lsn? startWhenEmpty, uint timelineWhenEmpty, CancellationToken cancellationToken, Action<string>? segmentSpooled = null)
    {
        var spooled = spool.Segments();
        string? after = spooled.Count > 0 ? spooled[^1] : null;
        if (after is null && startWhenEmpty is null) return new FetchResult(0, null);
        var listing = await archive.ListAsync(cancellationToken).ConfigureAwait(false);
        var histories = await FetchHistoriesAsync(listing, cancellationToken).ConfigureAwait(false);
        if (after is null)
        {
            var first = startWhenEmpty!.Value.Value / segmentSize;
            var previous = first == 0 ? 0 : first - 1;
            // The spool may have been emptied after a switch: the segment before the start belongs to whichever
            // timeline the newest history continuing ours says, maybe a newer one than the caller knows.
            var timeline = histories.Where(h => h.Timeline > timelineWhenEmpty && h.Contains(timelineWhenEmpty)).MaxBy(h => h.Timeline)
                ?.OwnerOfSegment(new Lsn(previous * segmentSize), segmentSize) ?? timelineWhenEmpty;
            after = WalSegmentName.Format(timeline, previous, segmentSize);
        }

        var fetched = 0;
        while (true)
        {
            var plan = SegmentPlan.After(after, listing, segmentSize, histories: histories);
            foreach (var entry in plan.Next)
            {
                after = await spool.FetchAsync(archive, entry, cancellationToken).ConfigureAwait(false);
                fetched++;
                segmentSpooled?.Invoke(after);
            }

            if (plan.Next.Count == 0 || plan.MissingSegment is not null)
                return new FetchResult(fetched, plan.MissingSegment, plan.Timeline, plan.Unfollowable, plan.UnfollowableMessage, SkippedHistories(listing));
        }
    }

    /// <summary>
    /// Spools the archive's timeline history files not yet spooled and returns all spooled ones. PostgreSQL
    /// archives a new timeline's history file before any of its segments, and never changes it afterwards.
    /// One that cannot be read (damaged, too large, not a history) is left aside and reported through
    /// <see cref="FetchResult.SkippedFiles"/>: the segments are still fetched, as if it were not there yet.
    /// </summary>
    private async Task<IReadOnlyList<TimelineHistory>> FetchHistoriesAsync(IReadOnlyList<ArchiveEntry> listing, CancellationToken cancellationToken)
    {
        foreach (var entry in listing)
        {
            if (!TimelineHistory.IsArchivedHistoryFileName(entry.Name, out var plainName, out _) || spool.Contains(plainName)) continue;
            if (_badHistories.ContainsKey((entry.Name, entry.Size))) continue;
            try
            {
                await spool.FetchHistoryAsync(archive, entry, cancellationToken).ConfigureAwait(false);
            }
            catch (WalFormatException e)
            {
                _badHistories[(entry.Name, entry.Size)] = $"timeline history file {entry.Name} in {archive.Description} cannot be used and is skipped: {e.Message}";
            }
        }

        return spool.Histories();
    }

    private IReadOnlyList<(string File, string Problem)> SkippedHistories(IReadOnlyList<ArchiveEntry> listing) =>
        listing.Where(e => _badHistories.ContainsKey((e.Name, e.Size))).Select(e => (e.Name, _badHistories[(e.Name, e.Size)])).ToList();

    /// <summary>
    /// Makes sure the spool holds every segment from <paramref name="firstSegment"/> on (a resync needs the
    /// WAL since its base backup, which the stream may have cleaned away already).
    /// </summary>
    public async Task FetchFromAsync(string firstSegment, CancellationToken cancellationToken)
    {
        WalSegmentName.TryParse(firstSegment, out var first);
        var firstNumber = first.SegmentNumber(segmentSize);
        // Segment numbers, not names, are compared: the spool may have moved on to a newer timeline since.
        ulong? NumberOf(string name) => WalSegmentName.TryParse(name, out var n) ? n.SegmentNumber(segmentSize) : null;
        var spooled = spool.Segments();
        var stopAt = spooled.Count > 0 ? NumberOf(spooled[0]) : null;
        if (stopAt <= firstNumber) return;
        var listing = await archive.ListAsync(cancellationToken).ConfigureAwait(false);
        var histories = await FetchHistoriesAsync(listing, cancellationToken).ConfigureAwait(false);
        var after = WalSegmentName.Format(first.Timeline, firstNumber - 1, segmentSize);
        foreach (var entry in SegmentPlan.After(after, listing, segmentSize, int.MaxValue, histories).Next)
        {
            if (NumberOf(entry.Name) >= stopAt) break;
            await spool.FetchAsync(archive, entry, cancellationToken).ConfigureAwait(false);
        }

        if (!spool.Segments().Any(s => NumberOf(s) == firstNumber))
            throw new InvalidOperationException($"WAL segment {firstSegment}, where the newest base backup starts, is not in the archive {archive.Description}");
    }
}
