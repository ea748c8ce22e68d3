using Akka.Actor;
using Akka.Event;
using DataSync.Core.Sync;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Copies tables that need it (new, or resync asked) from a temporary restore of the newest base backup,
/// beside the running stream, one attempt at a time; an attempt is a <see cref="BootstrapPass"/>. After an
/// attempt that waited or failed, the next one starts no sooner than its answer's RetryAt: requests that come
/// earlier are gathered (<see cref="BootstrapQueue{TRequester}"/>) and run by a timer at that time, so a
/// requester that asks again at once gets a scheduled retry, never an immediate re-run.
/// </summary>
internal sealed class Bootstrapper : ReceiveActor, IWithTimers
{
    public const string Name = "bootstrapper";

    private const string RetryTimer = "retry";

    private readonly BootstrapQueue<IActorRef> _queue = new();
    private readonly Func<IReadOnlyList<string>, CancellationToken, Task<BootstrapFinished>> _attempt;
    private readonly RunningBootstraps? _running;

    /// <param name="attemptWith">Makes the attempt, given this actor's log: the daemon's <see cref="BootstrapPass"/>, or a spec's stand-in.</param>
    /// <param name="running">Where attempts are kept for the daemon's stop to cancel and wait for; null: nothing does.</param>
    public Bootstrapper(Func<ILoggingAdapter, Func<IReadOnlyList<string>, CancellationToken, Task<BootstrapFinished>>> attemptWith, RunningBootstraps? running)
    {
        _running = running;
        _attempt = attemptWith(Context.GetLogger());
        Receive<BootstrapTables>(request =>
        {
            _queue.Add(request.Tables, Sender);
            Advance();
        });
        Receive<RetryDue>(_ => Advance());
        Receive<Attempted>(attempted =>
        {
            var finished = attempted.Finished;
            _queue.Ended(finished.Copied ? null : finished.RetryAt);
            foreach (var requester in attempted.Requesters) requester.Tell(finished);
            Advance();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="early">The daemon's first attempt, started before the actor system; the first attempt here takes its outcome.</param>
    /// <param name="running">Where attempts are kept for the daemon's stop to cancel and wait for.</param>
    public static Props Props(TableBootstrapper bootstrapper, NpgsqlDataSource local, FailureLog failures, EarlyBootstrap? early = null, RunningBootstraps? running = null) =>
        Props(log => new BootstrapPass(bootstrapper, local, failures, log, early).RunAsync, running);

    public static Props Props(Func<ILoggingAdapter, Func<IReadOnlyList<string>, CancellationToken, Task<BootstrapFinished>>> attemptWith, RunningBootstraps? running = null) =>
        Akka.Actor.Props.Create(() => new Bootstrapper(attemptWith, running));

    /// <summary>Starts an attempt if one may start now; else, when requests wait for the pause alone, arms the timer for its end.</summary>
    private void Advance()
    {
        var now = DateTimeOffset.UtcNow;
        if (_queue.TryStart(now) is { } start)
        {
            Timers.Cancel(RetryTimer);
            var requesters = start.Requesters;
            var tables = start.Tables;
            var attempt = _running is null ? _attempt(tables, CancellationToken.None) : _running.Run(stopping => _attempt(tables, stopping));
            attempt.PipeTo(Self,
                success: finished => new Attempted(requesters, finished),
                failure: e => new Attempted(requesters,
                    new BootstrapFinished(tables, false, TableBootstrapper.Describe(e), true, true, DateTimeOffset.UtcNow + BootstrapPass.RetryAfterError)));
            return;
        }

        // A timer that fires a little early finds the pause not over and is armed again for the rest.
        if (_queue.WakeAt is { } wake) Timers.StartSingleTimer(RetryTimer, RetryDue.Instance, wake > now ? wake - now : TimeSpan.Zero);
    }

    private sealed record Attempted(IReadOnlyList<IActorRef> Requesters, BootstrapFinished Finished);

    private sealed class RetryDue
    {
        public static readonly RetryDue Instance = new();
    }
}
