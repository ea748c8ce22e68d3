using Akka.Event;
using DataSync.Actors.Daemon;
using DataSync.Core.Archive;
using DataSync.Core.Archive.Sftp;
using DataSync.Core.Sync;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// One scan of the archive as the daemon runs it: fetches new complete segments into the spool
/// (<see cref="SyncParts.FetchAsync"/>: in order, never past a gap, logging gaps and bad segments per table),
/// reports a failure once per cause and rethrows it, and warns once per gap and once per spool hold. Each segment
/// spooled is told to <paramref name="arrivals"/> as it lands, not only when the whole scan is over.
/// </summary>
/// <param name="early">The daemon's first fetch, already running: the first scan finishes it instead of starting one.</param>
internal sealed class ArchiveScan(SyncParts parts, DaemonCounters counters, FailureLog failures, ILoggingAdapter log, SegmentArrivals? arrivals = null,
    EarlyFetch? early = null)
{
    /// <summary>The part of the sync this scan reports failures as.</summary>
    private const string Scope = "archive";

    private string? _gapReported;
    private string? _spoolWarned;

    public async Task<SegmentsSpooled> RunAsync()
    {
        FetchResult result;
        try
        {
            result = await (early?.Take() ?? parts.FetchAsync(CancellationToken.None, arrivals is null ? null : _ => arrivals.Arrived())).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Every occurrence counts in status; the FAILED row is written once per cause (a segment that failed
            // its checks on arrival was logged per table already), and the backoff retries after a growing pause.
            counters.AddError();
            if (await failures.ReportAsync(Scope, "reading the archive " + parts.Fetcher.Archive.Description, e, WhatToDo(e), CancellationToken.None).ConfigureAwait(false))
                log.Error("the archive {Archive} cannot be read (retried with a growing pause; repeats are counted, not logged): {Cause}",
                    parts.Fetcher.Archive.Description, TableBootstrapper.Describe(e));
            throw;
        }

        if (await failures.SucceededAsync(Scope, CancellationToken.None).ConfigureAwait(false) is { } outage)
            log.Warning("the local database is back: {Outage}", outage);

        if (result.MissingSegment is { } missing && _gapReported != missing)
        {
            counters.AddError();
            log.Warning("the archive has a gap: segment {Segment} is missing while later ones exist; waiting for it, nothing past it is applied", missing);
        }

        _gapReported = result.MissingSegment;
        // One warning per hold (the segment a long-open production transaction keeps the stream at), counted once.
        if (result.SpoolWarning is { } spool && spool.HeldAt != _spoolWarned)
        {
            counters.AddError();
            log.Warning("{Warning}", spool.Message);
        }

        _spoolWarned = result.SpoolWarning?.HeldAt;
        if (result.Fetched > 0) log.Info("{Count} segment(s) fetched into the spool", result.Fetched);
        return new SegmentsSpooled(result.Fetched, result.MissingSegment);
    }

    /// <summary>What an operator does about an archive that cannot be read: an sftp refusal says it in its message; what passes is retried.</summary>
    private static string WhatToDo(Exception error) => error switch
    {
        HostKeyRefusedException => "nothing is fetched until the host key is sorted out as said; the sync retries on its own",
        SftpSourceException { IsTransient: true } => "the sync retries on its own with a growing pause; check that the backup machine and its sftp server are up and reachable",
        SftpSourceException => "fix what the message names (SSH_KEY_FILE, the account's access, ARCHIVE_DIR); the sync retries on its own",
        _ => "check that ARCHIVE_DIR exists and is readable by the daemon's user; the sync retries on its own with a growing pause",
    };
}
