using Akka.Actor;
using Akka.Event;
using DataSync.Core.Sync;

namespace DataSync.Actors.Sync;

/// <summary>Runs <see cref="MetricsAggregator"/> every METRIC_FREQ hours; a failed run is logged and retried at the next period.</summary>
public sealed class MetricsScheduler : ReceiveActor, IWithTimers
{
    public const string Name = "metrics";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimeSpan _period;

    public MetricsScheduler(MetricsAggregator aggregator, TimeSpan period)
    {
        _period = period;
        Receive<Tick>(_ => aggregator.AggregateAsync(DateTimeOffset.UtcNow, CancellationToken.None)
            .PipeTo(Self, success: rows => new Done(rows)));
        Receive<Done>(done => _log.Info("metrics aggregated: {Rows} data_sync_metrics row(s) upserted", done.Rows));
        Receive<Status.Failure>(failure => _log.Warning("metrics aggregation failed, retried in {Period}: {Cause}", _period, failure.Cause.GetBaseException().Message));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(MetricsAggregator aggregator, TimeSpan period) =>
        Akka.Actor.Props.Create(() => new MetricsScheduler(aggregator, period));

    protected override void PreStart() => Timers.StartPeriodicTimer("metrics", Tick.Instance, _period, _period);

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Done(int Rows);
}
