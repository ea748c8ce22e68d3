using Akka.Actor;
using Akka.Event;
using DataSync.Actors.Daemon;
using DataSync.Core.Archive;
using DataSync.Core.Sync;
using DataSync.Wal;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Every DATA_SYNC_FREQ seconds, and for a local archive folder also shortly after a file appears in it,
/// scans the archive (<see cref="ArchiveScan"/>) and tells the coordinator what came into the spool. One scan
/// at a time: reasons to scan that come during one make one more scan after it. A failed scan throws, so the
/// backoff supervisor above retries after a jittered pause.
/// </summary>
internal sealed class ArchiveWatcher : ReceiveActor, IWithTimers
{
    public const string Name = "archive-watcher";

    /// <summary>How long after the first notification the extra scan runs: archive_command is usually done by then, and a burst of notifications makes one scan.</summary>
    private static readonly TimeSpan SettleTime = TimeSpan.FromMilliseconds(100);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string? _localFolder;
    private readonly TimeSpan _frequency;
    private ArchiveFolderEvents? _folderEvents;
    private bool _scanning;
    private bool _again;

    /// <param name="scanWith">Makes the scan, given this actor's log: the daemon's <see cref="ArchiveScan"/>, or a spec's stand-in.</param>
    /// <param name="localFolder">The archive folder when it is local (watched for new files), null for an sftp archive.</param>
    public ArchiveWatcher(Func<ILoggingAdapter, Func<Task<SegmentsSpooled>>> scanWith, IActorRef coordinator, TimeSpan frequency, string? localFolder)
    {
        _frequency = frequency;
        _localFolder = localFolder;
        var scan = scanWith(_log);
        Receive<FolderChanged>(_ =>
        {
            if (!Timers.IsTimerActive("changed")) Timers.StartSingleTimer("changed", Tick.Instance, SettleTime);
        });
        Receive<Tick>(_ =>
        {
            if (_scanning)
            {
                _again = true;
                return;
            }

            _scanning = true;
            scan().PipeTo(Self);
        });
        Receive<SegmentsSpooled>(spooled =>
        {
            _scanning = false;
            coordinator.Tell(spooled);
            if (!_again) return;
            _again = false;
            Self.Tell(Tick.Instance);
        });
        Receive<Status.Failure>(failure =>
            throw new ArchiveScanFailedException(failure.Cause.GetBaseException().Message, failure.Cause));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>The daemon's watcher: scans with <see cref="ArchiveScan"/>, the first one finishing <paramref name="early"/> when given, and tells the
    /// coordinator of each segment as it lands (<paramref name="arrivals"/>, which the early fetch tells too).</summary>
    public static Props Props(SyncParts parts, IActorRef coordinator, DaemonCounters counters, FailureLog failures, SegmentArrivals arrivals, EarlyFetch? early,
        TimeSpan frequency, string? localFolder) =>
        Props(log =>
        {
            arrivals.Listen(() => coordinator.Tell(SegmentLanded));
            return new ArchiveScan(parts, counters, failures, log, arrivals, early).RunAsync;
        }, coordinator, frequency, localFolder);

    /// <summary>One segment spooled while its scan goes on: the stream may start on it.</summary>
    private static readonly SegmentsSpooled SegmentLanded = new(1, null);

    public static Props Props(Func<ILoggingAdapter, Func<Task<SegmentsSpooled>>> scanWith, IActorRef coordinator, TimeSpan frequency, string? localFolder) =>
        Akka.Actor.Props.Create(() => new ArchiveWatcher(scanWith, coordinator, frequency, localFolder));

    protected override void PreStart()
    {
        Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.Zero, _frequency);
        if (_localFolder is null) return;
        var self = Self;
        _folderEvents = ArchiveFolderEvents.TryStart(_localFolder, () => self.Tell(FolderChanged.Instance), out var problem);
        if (_folderEvents is null)
            _log.Warning("cannot watch the archive folder {Folder} for new files ({Problem}); it is scanned every {Seconds} s only", _localFolder, problem, _frequency.TotalSeconds);
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
