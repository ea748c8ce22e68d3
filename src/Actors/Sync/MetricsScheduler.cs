using Akka.Actor;
using Akka.Event;
using DataSync.Core.Sync;
using Npgsql;

namespace DataSync.Actors.Sync;

/// <summary>
/// Runs <see cref="MetricsAggregator"/> when the daemon starts (catching up the windows missed while it was
/// down), every METRIC_FREQ hours, and once more as the daemon stops, so a daemon restarted more often than
/// METRIC_FREQ still writes complete metrics. A failed run is logged and retried at the next period.
/// </summary>
public sealed class MetricsScheduler : ReceiveActor, IWithTimers
{
    public const string Name = "metrics";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly MetricsAggregator _aggregator;
    private readonly TimeSpan _period;
    private readonly TimeProvider _clock;

    public MetricsScheduler(MetricsAggregator aggregator, TimeSpan period, TimeProvider clock)
    {
        _aggregator = aggregator;
        _period = period;
        _clock = clock;
        Receive<Tick>(_ => aggregator.AggregateAsync(clock.GetUtcNow(), CancellationToken.None)
            .PipeTo(Self, success: rows => new Done(rows)));
        Receive<Done>(done => _log.Info("metrics aggregated: {Rows} data_sync_metrics row(s) upserted", done.Rows));
        Receive<Status.Failure>(failure => _log.Warning("metrics aggregation failed, retried in {Period}: {Cause}", _period, failure.Cause.GetBaseException().Message));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MetricsAggregator aggregator, TimeSpan period, TimeProvider? clock = null) =>
        Akka.Actor.Props.Create(() => new MetricsScheduler(aggregator, period, clock ?? TimeProvider.System));

    protected override void PreStart()
    {
        Self.Tell(Tick.Instance);
        Timers.StartPeriodicTimer("metrics", Tick.Instance, _period, _period);
        // The last run belongs to the stop itself: after the stream's final batches, before the system ends.
        CoordinatedShutdown.Get(Context.System).AddTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate, "aggregate-metrics", async () =>
        {
            try
            {
                var rows = await _aggregator.AggregateAsync(_clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
                _log.Info("metrics aggregated at stop: {Rows} data_sync_metrics row(s) upserted", rows);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                _log.Warning("metrics aggregation at stop failed; the next start catches it up: {Cause}", e.GetBaseException().Message);
            }

            return Akka.Done.Instance;
        });
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Done(int Rows);
}
