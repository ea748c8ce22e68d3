using DataSync.Core.Archive;
using DataSync.Wal;
using DataSync.Wal.Changes;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// The plain-code parts of the sync over one spool, built once: the fetcher, the bootstrapper and the
/// stream's parts. The in-process <see cref="SyncEngine"/> calls them one after the other; the daemon's actors
/// each drive one of them.
/// </summary>
public sealed class SyncParts
{
    private readonly NpgsqlDataSource _local;
    private readonly SyncOptions _options;
    private readonly SpillStore _spill;
    private readonly int _spoolWarnMb;

    public SyncParts(SyncOptions options, NpgsqlDataSource local)
    {
        if (options.SegmentSize == 0)
            throw new ArgumentException("the WAL segment size is not known yet: make the parts from SyncOptions.WithSegmentSizeAsync's result", nameof(options));
        _local = local;
        _options = options;
        _spoolWarnMb = options.Settings.SpoolWarnMb;
        Fetcher = new ArchiveFetcher(options.Archive, new WalSpool(options.SpoolDirectory, options.SegmentSize), options.SegmentSize);
        Bootstrapper = new TableBootstrapper(options, local, Fetcher);
        // Spill files left by a process that died mid-transaction are removed once, when the parts are made.
        _spill = new SpillStore(options.SpillDirectory);
        _spill.SweepOrphans();
    }

    public ArchiveFetcher Fetcher { get; }

    /// <summary>Where open transactions too large for memory spill (one store for the streams these parts make).</summary>
    public SpillStore Spill => _spill;

    public TableBootstrapper Bootstrapper { get; }

    /// <summary>
    /// A stream over the spool, with no decoder yet (it is built from the database's state at its first pass). One
    /// lives as long as its driver: the engine, or the daemon's coordinator between two restarts.
    /// </summary>
    public LiveStream NewStream(FailureLog? failures = null) => new(_options, _local, Fetcher.Spool, _spill, failures);

    /// <summary>
    /// One pass over the archive: fetches what follows the spool (or the stream's restart point, or the
    /// newest backup's start) and logs, once per table, what stops it: a segment that fails its checks on
    /// arrival (rethrown), a gap, a timeline that cannot be followed.
    /// </summary>
    /// <param name="spooled">Told after each segment lands in the spool (see <see cref="ArchiveFetcher.FetchNewAsync"/>).</param>
    public async Task<FetchResult> FetchAsync(CancellationToken cancellationToken, Action<string>? spooled = null)
    {
        var (start, timeline) = await FetchStart.ResolveAsync(_local, Fetcher.Spool, Bootstrapper.NewestBackup, cancellationToken).ConfigureAwait(false);
        FetchResult result;
        try
        {
            result = await Fetcher.FetchNewAsync(start, timeline, cancellationToken, spooled).ConfigureAwait(false);
        }
        catch (WalFormatException e)
        {
            await ArchiveProblemLog.LogOnceAsync(_local, Path.GetFileName(e.FileName), e.Message, cancellationToken).ConfigureAwait(false);
            throw;
        }

        foreach (var (file, problem) in result.SkippedFiles ?? [])
            await ArchiveProblemLog.LogOnceAsync(_local, file, problem, cancellationToken).ConfigureAwait(false);
        if (result.MissingSegment is { } missing)
            await ArchiveProblemLog.LogGapAsync(_local, missing, Fetcher.Archive.Description, cancellationToken).ConfigureAwait(false);
        if (result is { Unfollowable: { } fork, UnfollowableMessage: { } forkMessage })
            await ArchiveProblemLog.LogOnceAsync(_local, $"{fork.Timeline:X8}.history", forkMessage, cancellationToken).ConfigureAwait(false);
        // Checked after every fetch, as the spool only grows there: a long-open production transaction warned of before the disk fills.
        return result with { SpoolWarning = await SpoolBound.CheckAsync(_local, Fetcher.Spool.Directory, _spoolWarnMb, cancellationToken).ConfigureAwait(false) };
    }
}
