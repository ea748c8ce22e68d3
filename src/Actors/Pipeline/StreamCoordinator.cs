using Akka.Actor;
using Akka.Event;
using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Core.Configuration;
using DataSync.Core.Sync;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The ordered stage of the pipeline. It owns the <see cref="LiveStream"/> (one decoder kept across segments) and one
/// <see cref="TableApplier"/> child per syncing table, and moves work along by messages: new segments (or a table list
/// change) start a pass, which reads the sync state, asks the bootstrapper for tables that need a copy, asks for the
/// next segments to be framed (by the decoder pool, or on the thread pool when there is none) a bounded number ahead,
/// feeds the framed ones in order to the decoder and routes the transactions to the appliers, each command told with
/// an acknowledgement. One route at a time; frames keep arriving meanwhile. A failed route throws, so the backoff
/// supervisor above restarts this actor (and its appliers, which drops their open batches) after a jittered pause,
/// and the stream resumes from the database's state.
/// </summary>
internal sealed class StreamCoordinator : ReceiveActor
{
    public const string Name = "stream";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly LiveStream _stream;
    private readonly TableSinkSet<TableApplierSink> _sinks;
    private readonly NpgsqlDataSource _local;
    private readonly FailureLog _failures;
    private readonly IActorRef _bootstrapper;
    private readonly DaemonCounters _counters;
    private readonly IActorRef? _decoders;
    private readonly int _ahead;
    private readonly uint _segmentSize;
    private long _segmentsCounted;
    private int _framing;
    private bool _reading;
    private bool _routing;
    private bool _again;
    private int _applierGeneration;
    private bool _bootstrapping;
    private DateTimeOffset _bootstrapNotBefore = DateTimeOffset.MinValue;
    private ICancelable? _bootstrapRetry;
    private bool _workedSinceRelease;
    private bool _journalsStarted;
    private ICancelable? _releaseTimer;

    /// <param name="decoders">The WAL decoder pool, or null to frame segments on the thread pool.</param>
    /// <param name="ahead">Segments asked to be framed ahead of the decoder (each holds about a segment of pooled memory).</param>
    public StreamCoordinator(SyncParts parts, NpgsqlDataSource local, DataSyncSettings settings, uint segmentSize, IActorRef bootstrapper, DaemonCounters counters,
        FailureLog failures, IActorRef? decoders, int ahead)
    {
        _local = local;
        _failures = failures;
        _bootstrapper = bootstrapper;
        _counters = counters;
        _decoders = decoders;
        _ahead = Math.Max(1, ahead);
        _segmentSize = segmentSize;
        _stream = parts.NewStream(failures);
        _sinks = new TableSinkSet<TableApplierSink>(table =>
        {
            var log = _log;
            var applier = Context.ActorOf(TableApplier.Props(new TableBatch(local, settings, table.Table, segmentSize, text => log.Warning("{LockWait}", text))),
                $"{TableApplier.ActorName(table.Table)}-{++_applierGeneration}");
            Context.Watch(applier);
            if (_journalsStarted) applier.Tell(StartJournal.Instance);
            return new TableApplierSink(table.Table, applier, Self);
        }, sink =>
        {
            Context.Unwatch(sink.Applier);
            Context.Stop(sink.Applier);
            sink.Fail(new InvalidOperationException($"the applier of {sink.Table} was stopped: the table no longer syncs"));
        });

        // A route that goes on into the next segments makes room ahead as it takes them.
        var self = Self;
        _stream.SegmentTaken = () => self.Tell(FramesWanted.Instance);
        Receive<FramesWanted>(_ => AskForFrames());
        Receive<SegmentsSpooled>(_ => Pass());
        Receive<TableListChanged>(_ => Pass());
        Receive<RetryBootstrap>(_ => Pass());
        Receive<StateRead>(OnStateRead);
        Receive<SegmentFramed>(framed =>
        {
            _framing--;
            _stream.Collect(framed.Request);
            AskForFrames();
            Pass();
        });
        Receive<ApplierAck>(ack => _sinks.Find(ack.Table.ToString())?.Acknowledge(ack));
        Receive<Terminated>(gone =>
        {
            foreach (var sink in _sinks.All.Where(s => s.Applier.Equals(gone.ActorRef)))
                sink.Fail(new InvalidOperationException($"the applier of {sink.Table} stopped"));
        });
        Receive<RouteFinished>(OnRouted);
        Receive<ReleaseIdleMemory>(_ => OnQuiet());
        Receive<JournalReady>(_ =>
        {
            // The journal's set-up counts as work: its memory goes back at the next quiet moment.
            _workedSinceRelease = true;
            ReleaseWhenQuiet();
        });
        Receive<BootstrapFinished>(OnBootstrapFinished);
        Receive<Status.Failure>(failure =>
        {
            _counters.AddError();
            if (failure.Cause is StreamFailedException { NewCause: true } stream)
                _log.Error("the stream failed (retried with a growing pause; repeats are counted, not logged): {Cause}", TableBootstrapper.Describe(stream.InnerException!));
            throw new SyncCycleFailedException(failure.Cause.GetBaseException().Message, failure.Cause);
        });
    }

    public static Props Props(SyncParts parts, NpgsqlDataSource local, DataSyncSettings settings, uint segmentSize, IActorRef bootstrapper, DaemonCounters counters,
        FailureLog failures, IActorRef? decoders, int ahead) =>
        Akka.Actor.Props.Create(() => new StreamCoordinator(parts, local, settings, segmentSize, bootstrapper, counters, failures, decoders, ahead));

    protected override void PostStop()
    {
        _bootstrapRetry?.Cancel();
        _releaseTimer?.Cancel();
        _stream.Dispose();
        base.PostStop();
    }

    /// <summary>Starts a pass: the database, not this actor, says which tables sync and from where. One at a time.</summary>
    private void Pass()
    {
        if (_reading || _routing)
        {
            _again = true;
            return;
        }

        _reading = true;
        _again = false;
        ReadStateAsync(_local, _failures).PipeTo(Self);
    }

    private void OnStateRead(StateRead read)
    {
        _reading = false;
        var sinks = _sinks.For(read.Tables);
        var needing = read.Tables.Where(t => t.NeedsBootstrap).Select(t => t.Table.ToString()).ToList();
        // After a wait or a failure the next attempt comes no earlier than the bootstrapper's backoff allows (a
        // scheduled message asks then); a stream pass in between does not ask again.
        if (needing.Count > 0 && !_bootstrapping && DateTimeOffset.UtcNow >= _bootstrapNotBefore)
        {
            _bootstrapping = true;
            _bootstrapper.Tell(new BootstrapTables(needing));
        }

        if (read.Stream is null || sinks.Count == 0)
        {
            // Nothing to stream into: the decoder and its framed segments are let go until tables sync again.
            _stream.Reset();
            ReleaseWhenQuiet();
            return;
        }

        _stream.Prepare(read.Stream);
        AskForFrames();
        if (!_stream.Feed())
        {
            ReleaseWhenQuiet();
            return;
        }

        // What was just fed leaves room ahead: the next segment is framed while this one is routed.
        AskForFrames();
        _routing = true;
        _stream.RouteAsync(sinks, CancellationToken.None).PipeTo(Self, success: r => new RouteFinished(r));
    }

    private void OnRouted(RouteFinished done)
    {
        _routing = false;
        var result = done.Result;
        _counters.AddRecords(result.Rows);
        var decoded = _stream.SegmentsFramed - _segmentsCounted;
        _counters.AddDecoded(decoded, decoded * _segmentSize);
        _segmentsCounted += decoded;
        foreach (var committed in result.Outcomes.OfType<TableBatchOutcome.Committed>())
            _counters.AddApplied(committed.Table.ToString(), committed.Counts);
        foreach (var paused in result.Outcomes.OfType<TableBatchOutcome.Paused>())
        {
            _counters.AddError();
            _log.Warning("table {Table} paused at {Lsn} ({File}): {Cause}", paused.Table, paused.Lsn, paused.ArchiveFile, paused.Cause);
        }

        if (result.OutageEnded is { } outage) _log.Warning("the local database is back: {Outage}", outage);
        if (result.Rows > 0) _log.Info("stream: {Transactions} transaction(s) and {Rows} row change(s) applied", result.Transactions, result.Rows);
        if (result.PartsAhead > 0)
            _log.Info("stream: {Transactions} big transaction(s) applied while read, in {Parts} part(s) ahead of their commit", result.TransactionsAhead, result.PartsAhead);
        _workedSinceRelease = true;
        AskForFrames();
        if (result.Superseded || _again || _stream.Waiting > 0) Pass();
        else ReleaseWhenQuiet();
    }

    /// <summary>After work, once nothing more came for <see cref="IdleMemory.QuietFor"/>, gives memory back (<see cref="OnQuiet"/>).</summary>
    private void ReleaseWhenQuiet()
    {
        if (!_workedSinceRelease || _releaseTimer is not null) return;
        _releaseTimer = Context.System.Scheduler.ScheduleTellOnceCancelable(IdleMemory.QuietFor, Self, ReleaseIdleMemory.Instance, Self);
    }

    private void OnQuiet()
    {
        _releaseTimer = null;
        // Busy again meanwhile: the next quiet moment releases.
        if (_reading || _routing || _bootstrapping || _framing > 0 || _stream.Waiting > 0) return;
        _workedSinceRelease = false;
        // The first quiet moment after the start's catch-up is when the appliers' journals may take their set-up's CPU;
        // memory is given back at the quiet moment after that, and again once the journals say they have recovered
        // (JournalReady), so what the set-up leaves behind goes too.
        if (!_journalsStarted && JournalStarts.Get(Context.System).MayBegin)
        {
            _journalsStarted = true;
            _log.Info("the stream is quiet: the tables' checkpoint journals start");
            foreach (var sink in _sinks.All) sink.Applier.Tell(StartJournal.Instance);
            _workedSinceRelease = true;
            ReleaseWhenQuiet();
            return;
        }

        var dropped = IdleMemory.Release();
        _log.Debug("quiet: {Buffers} idle segment buffer(s) let go and the heap collected", dropped);
    }

    private void OnBootstrapFinished(BootstrapFinished done)
    {
        _bootstrapping = false;
        if (done.Copied)
        {
            _workedSinceRelease = true;
            _bootstrapNotBefore = DateTimeOffset.MinValue;
            foreach (var _ in done.Refused) _counters.AddError();
            var copied = done.Tables.Except(done.Refused).ToList();
            if (copied.Count > 0) _log.Info("bootstrapped {Tables}", string.Join(", ", copied));
            Pass();
            return;
        }

        if (done.Problem is null) return;
        // Every failed attempt counts in status; the bootstrapper logged the cause once and counts the repeats on its row.
        if (done.Failed) _counters.AddError();
        _bootstrapNotBefore = done.RetryAt ?? DateTimeOffset.UtcNow;
        _bootstrapRetry?.Cancel();
        var delay = _bootstrapNotBefore - DateTimeOffset.UtcNow;
        _bootstrapRetry = Context.System.Scheduler.ScheduleTellOnceCancelable(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Self, RetryBootstrap.Instance, Self);
    }

    /// <summary>Asks for the next segments to be framed, keeping at most <see cref="_ahead"/> framed or being framed ahead of the decoder.</summary>
    private void AskForFrames()
    {
        // Framing reads the spool and nothing of this actor's state.
        Func<SegmentRequest, DataSync.Wal.Records.FramedSegment> frame = _stream.Frame;
        var inbox = _stream.Inbox;
        foreach (var request in _stream.Plan(_ahead - _framing - _stream.Waiting))
        {
            _framing++;
            if (_decoders is not null)
            {
                _decoders.Tell(new FrameSegment(request, inbox));
            }
            else
            {
                Task.Run(() =>
                {
                    inbox.Deposit(request, frame(request));
                    return new SegmentFramed(request);
                }).PipeTo(Self);
            }
        }
    }

    private static async Task<StateRead> ReadStateAsync(NpgsqlDataSource local, FailureLog failures)
    {
        try
        {
            await using var connection = await local.OpenConnectionAsync().ConfigureAwait(false);
            var tables = await SyncState.ReadTablesAsync(connection, CancellationToken.None).ConfigureAwait(false);
            var stream = await SyncState.ReadStreamAsync(connection, CancellationToken.None).ConfigureAwait(false);
            return new StateRead(tables, stream);
        }
        catch (Exception e) when (LocalDatabaseOutage.IsOutage(e))
        {
            failures.OutageMet("reading the sync state", e);
            throw;
        }
    }

    private sealed record StateRead(IReadOnlyList<TableSyncState> Tables, StreamState? Stream);

    private sealed record RouteFinished(RouteResult Result);

    private sealed record RetryBootstrap
    {
        public static RetryBootstrap Instance { get; } = new();
    }

    private sealed record ReleaseIdleMemory
    {
        public static ReleaseIdleMemory Instance { get; } = new();
    }

    private sealed record FramesWanted
    {
        public static FramesWanted Instance { get; } = new();
    }
}

/// <summary>A stream run failed (database down, archive unreadable, corrupt segment...); the message says what and where.</summary>
public sealed class SyncCycleFailedException(string message, Exception inner) : Exception(message, inner);
