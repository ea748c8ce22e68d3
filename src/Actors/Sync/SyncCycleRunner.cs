using Akka.Actor;
using Akka.Event;
using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Core.Sync;

namespace DataSync.Actors.Sync;

/// <summary>
/// Runs the sync engine's cycles, one at a time: every DATA_SYNC_FREQ seconds, and at once when the
/// sync list changes. It only schedules and reports; the work is <see cref="SyncEngine"/>'s. A failed
/// cycle throws, so the backoff supervisor above restarts this actor after a growing, jittered pause.
/// </summary>
public sealed class SyncCycleRunner : ReceiveActor, IWithTimers
{
    public const string Name = "sync";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SyncEngine _engine;
    private readonly DaemonCounters _counters;
    private bool _running;
    private bool _again;

    public SyncCycleRunner(SyncEngine engine, DaemonCounters counters, TimeSpan frequency)
    {
        _engine = engine;
        _counters = counters;
        Receive<Tick>(_ => Start());
        Receive<TableListChanged>(_ => Start());
        Receive<Completed>(done =>
        {
            _running = false;
            var result = done.Result;
            _counters.AddRecords(result.RowsApplied);
            foreach (var table in result.TablesPaused) _counters.AddError();
            if (result.MissingSegment is { } missing)
                _log.Warning("the archive has a gap: segment {Segment} is missing while later ones exist; waiting for it, nothing past it is applied", missing);
            if (result.SegmentsFetched > 0 || result.RowsApplied > 0 || result.TablesBootstrapped.Count > 0)
            {
                _log.Info("sync cycle: {Segments} segment(s) fetched, {Bootstrapped} table(s) bootstrapped, {Transactions} transaction(s) and {Rows} row change(s) applied",
                    result.SegmentsFetched, result.TablesBootstrapped.Count, result.TransactionsApplied, result.RowsApplied);
            }

            if (_again)
            {
                _again = false;
                Start();
            }
        });
        Receive<Status.Failure>(failure =>
        {
            _running = false;
            _counters.AddError();
            // Crash on purpose: the backoff supervisor restarts the runner with a fresh engine after a pause.
            throw new SyncCycleFailedException(failure.Cause.GetBaseException().Message, failure.Cause);
        });
        _frequency = frequency;
    }

    private readonly TimeSpan _frequency;

    protected override void PreStart() => Timers.StartPeriodicTimer("tick", Tick.Instance, TimeSpan.Zero, _frequency);

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Func<SyncEngine> engine, DaemonCounters counters, TimeSpan frequency) =>
        Akka.Actor.Props.Create(() => new SyncCycleRunner(engine(), counters, frequency));

    private void Start()
    {
        if (_running)
        {
            _again = true;
            return;
        }

        _running = true;
        _engine.RunCycleAsync(CancellationToken.None).PipeTo(Self, success: r => new Completed(r));
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record Completed(SyncCycleResult Result);
}

/// <summary>A sync cycle failed (database down, archive unreadable, corrupt segment...); the message says what and where.</summary>
public sealed class SyncCycleFailedException(string message, Exception inner) : Exception(message, inner);
