using Akka.Actor;
using Akka.Event;
using DataSync.Actors.Daemon;
using DataSync.Core.Archive;
using DataSync.Core.Sync;
using DataSync.Messages.Pipeline;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Every DATA_SYNC_FREQ seconds fetches new complete segments into the spool (in order, never past a gap)
/// and tells the coordinator. The work is <see cref="ArchiveFetcher"/>'s; a failure (archive unreachable,
/// a segment that fails its checks) throws, so the backoff supervisor above retries after a jittered pause.
/// </summary>
public sealed class ArchiveWatcher : ReceiveActor, IWithTimers
{
    public const string Name = "archive-watcher";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private string? _gapReported;

    public ArchiveWatcher(ArchiveFetcher fetcher, TableBootstrapper bootstrapper, NpgsqlDataSource local, IActorRef coordinator, DaemonCounters counters, TimeSpan frequency)
    {
        Frequency = frequency;
        ReceiveAsync<Tick>(async _ =>
        {
            var (start, timeline) = await FetchStart.ResolveAsync(local, fetcher.Spool, bootstrapper.NewestBackup, CancellationToken.None).ConfigureAwait(false);
            FetchResult result;
            try
            {
                result = await fetcher.FetchNewAsync(start, timeline, CancellationToken.None).ConfigureAwait(false);
            }
            catch (WalFormatException e)
            {
                // A segment that fails its checks on arrival: logged per table like a gap; the backoff retries it.
                await ArchiveProblemLog.LogOnceAsync(local, Path.GetFileName(e.FileName), e.Message, CancellationToken.None).ConfigureAwait(false);
                counters.AddError();
                throw;
            }

            if (result.MissingSegment is { } missing)
            {
                await ArchiveProblemLog.LogGapAsync(local, missing, fetcher.Archive.Description, CancellationToken.None).ConfigureAwait(false);
                if (_gapReported != missing)
                {
                    counters.AddError();
                    _log.Warning("the archive has a gap: segment {Segment} is missing while later ones exist; waiting for it, nothing past it is applied", missing);
                }
            }

            if (result is { Unfollowable: { } fork, UnfollowableMessage: { } forkMessage })
                await ArchiveProblemLog.LogOnceAsync(local, $"{fork.Timeline:X8}.history", forkMessage, CancellationToken.None).ConfigureAwait(false);

            _gapReported = result.MissingSegment;
            if (result.Fetched > 0) _log.Info("{Count} segment(s) fetched into the spool", result.Fetched);
            coordinator.Tell(new SegmentsSpooled(result.Fetched, result.MissingSegment));
        });
    }

    private TimeSpan Frequency { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ArchiveFetcher fetcher, TableBootstrapper bootstrapper, NpgsqlDataSource local, IActorRef coordinator, DaemonCounters counters, TimeSpan frequency) =>
        Akka.Actor.Props.Create(() => new ArchiveWatcher(fetcher, bootstrapper, local, coordinator, counters, frequency));

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.Zero, Frequency);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
