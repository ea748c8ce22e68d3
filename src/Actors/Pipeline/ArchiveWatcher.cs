using Akka.Actor;
using Akka.Event;
using DataSync.Actors.Daemon;
using DataSync.Core.Archive;
using DataSync.Core.Archive.Sftp;
using DataSync.Core.Sync;
using DataSync.Wal;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Every DATA_SYNC_FREQ seconds, and for a local archive folder also shortly after a file appears in it,
/// fetches new complete segments into the spool (in order, never past a gap) and tells the coordinator.
/// The work (fetching, and logging gaps and bad segments per table) is <see cref="SyncParts.FetchAsync"/>'s;
/// a failure (archive unreachable, a segment that fails its checks) throws, so the backoff supervisor above
/// retries after a jittered pause.
/// </summary>
public sealed class ArchiveWatcher : ReceiveActor, IWithTimers
{
    public const string Name = "archive-watcher";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private string? _gapReported;
    private string? _spoolWarned;

    /// <summary>How long after the first notification the extra scan runs: archive_command is usually done by then, and a burst of notifications makes one scan.</summary>
    private static readonly TimeSpan SettleTime = TimeSpan.FromMilliseconds(100);

    private readonly string? _localFolder;
    private ArchiveFolderEvents? _folderEvents;

    public ArchiveWatcher(SyncParts parts, IActorRef coordinator, DaemonCounters counters, FailureLog failures, TimeSpan frequency, string? localFolder)
    {
        Frequency = frequency;
        _localFolder = localFolder;
        Receive<FolderChanged>(_ =>
        {
            if (!Timers.IsTimerActive("changed")) Timers.StartSingleTimer("changed", Tick.Instance, SettleTime);
        });
        ReceiveAsync<Tick>(async _ =>
        {
            FetchResult result;
            try
            {
                result = await parts.FetchAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Every occurrence counts in status; the FAILED row is written once per cause (a segment that failed
                // its checks on arrival was logged per table already), and the backoff retries after a growing pause.
                counters.AddError();
                if (await failures.ReportAsync(Scope, "reading the archive " + parts.Fetcher.Archive.Description, e, WhatToDo(e), CancellationToken.None).ConfigureAwait(false))
                    _log.Error("the archive {Archive} cannot be read (retried with a growing pause; repeats are counted, not logged): {Cause}",
                        parts.Fetcher.Archive.Description, TableBootstrapper.Describe(e));
                throw;
            }

            if (await failures.SucceededAsync(Scope, CancellationToken.None).ConfigureAwait(false) is { } outage)
                _log.Warning("the local database is back: {Outage}", outage);

            if (result.MissingSegment is { } missing && _gapReported != missing)
            {
                counters.AddError();
                _log.Warning("the archive has a gap: segment {Segment} is missing while later ones exist; waiting for it, nothing past it is applied", missing);
            }

            _gapReported = result.MissingSegment;
            // One warning per hold (the segment a long-open production transaction keeps the stream at), counted once.
            if (result.SpoolWarning is { } spool && spool.HeldAt != _spoolWarned)
            {
                counters.AddError();
                _log.Warning("{Warning}", spool.Message);
            }

            _spoolWarned = result.SpoolWarning?.HeldAt;
            if (result.Fetched > 0) _log.Info("{Count} segment(s) fetched into the spool", result.Fetched);
            coordinator.Tell(new SegmentsSpooled(result.Fetched, result.MissingSegment));
        });
    }

    /// <summary>The part of the sync this watcher reports failures as.</summary>
    private const string Scope = "archive";

    private TimeSpan Frequency { get; }

    /// <summary>What an operator does about an archive that cannot be read: an sftp refusal says it in its message; what passes is retried.</summary>
    private static string WhatToDo(Exception error) => error switch
    {
        HostKeyRefusedException => "nothing is fetched until the host key is sorted out as said; the sync retries on its own",
        SftpSourceException { IsTransient: true } => "the sync retries on its own with a growing pause; check that the backup machine and its sftp server are up and reachable",
        SftpSourceException => "fix what the message names (SSH_KEY_FILE, the account's access, ARCHIVE_DIR); the sync retries on its own",
        _ => "check that ARCHIVE_DIR exists and is readable by the daemon's user; the sync retries on its own with a growing pause",
    };

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="localFolder">The archive folder when it is local (watched for new files), null for an sftp archive.</param>
    public static Props Props(SyncParts parts, IActorRef coordinator, DaemonCounters counters, FailureLog failures, TimeSpan frequency, string? localFolder) =>
        Akka.Actor.Props.Create(() => new ArchiveWatcher(parts, coordinator, counters, failures, frequency, localFolder));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.Zero, Frequency);
        if (_localFolder is null) return;
        var self = Self;
        _folderEvents = ArchiveFolderEvents.TryStart(_localFolder, () => self.Tell(FolderChanged.Instance), out var problem);
        if (_folderEvents is null)
            _log.Warning("cannot watch the archive folder {Folder} for new files ({Problem}); it is scanned every {Seconds} s only", _localFolder, problem, Frequency.TotalSeconds);
    }

    protected override void PostStop() => _folderEvents?.Dispose();

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed class FolderChanged
    {
        public static readonly FolderChanged Instance = new();
    }
}
