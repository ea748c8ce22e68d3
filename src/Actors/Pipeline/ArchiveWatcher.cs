using Akka.Actor;
using Akka.Event;
using DataSync.Actors.Daemon;
using DataSync.Core.Archive;
using DataSync.Core.Sync;
using DataSync.Messages.Pipeline;
using DataSync.Wal;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Every DATA_SYNC_FREQ seconds fetches new complete segments into the spool (in order, never past a gap)
/// and tells the coordinator. The work (fetching, and logging gaps and bad segments per table) is
/// <see cref="SyncParts.FetchAsync"/>'s; a failure (archive unreachable,
/// a segment that fails its checks) throws, so the backoff supervisor above retries after a jittered pause.
/// </summary>
public sealed class ArchiveWatcher : ReceiveActor, IWithTimers
{
    public const string Name = "archive-watcher";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private string? _gapReported;

    public ArchiveWatcher(SyncParts parts, IActorRef coordinator, DaemonCounters counters, TimeSpan frequency)
    {
        Frequency = frequency;
        ReceiveAsync<Tick>(async _ =>
        {
            FetchResult result;
            try
            {
                result = await parts.FetchAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (WalFormatException)
            {
                // A segment that failed its checks on arrival (logged per table); the backoff retries it.
                counters.AddError();
                throw;
            }

            if (result.MissingSegment is { } missing && _gapReported != missing)
            {
                counters.AddError();
                _log.Warning("the archive has a gap: segment {Segment} is missing while later ones exist; waiting for it, nothing past it is applied", missing);
            }

            _gapReported = result.MissingSegment;
            if (result.Fetched > 0) _log.Info("{Count} segment(s) fetched into the spool", result.Fetched);
            coordinator.Tell(new SegmentsSpooled(result.Fetched, result.MissingSegment));
        });
    }

    private TimeSpan Frequency { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(SyncParts parts, IActorRef coordinator, DaemonCounters counters, TimeSpan frequency) =>
        Akka.Actor.Props.Create(() => new ArchiveWatcher(parts, coordinator, counters, frequency));

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.Zero, Frequency);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
