using Akka.Actor;
using Akka.Event;
using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Core.Configuration;
using DataSync.Core.Sync;
using DataSync.Messages.Pipeline;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The ordered stage of the pipeline. When segments arrive or the table list changes it reads the sync
/// state, keeps one <see cref="TableApplier"/> child per syncing table, asks the bootstrapper for tables
/// that need a copy (the stream goes on meanwhile), and runs the stream over the spool: decoding in
/// segment order (framed by the WAL decoder pool when there is one), reassembling transactions and routing each table's changes to its applier. One run at
/// a time; a failed run throws, so the backoff supervisor above restarts it (and its appliers, which
/// drops their open batches) after a jittered pause.
/// </summary>
public sealed class StreamCoordinator : ReceiveActor
{
    public const string Name = "stream";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, TableApplierSink> _appliers = [];
    private readonly StreamDecoding _stream;
    private readonly FailureLog _failures;
    private volatile bool _bootstrapping;
    private bool _running;
    private bool _again;
    private int _applierGeneration;
    private DateTimeOffset _bootstrapNotBefore = DateTimeOffset.MinValue;
    private ICancelable? _bootstrapRetry;

    public StreamCoordinator(StreamDecoding stream, NpgsqlDataSource local, DataSyncSettings settings, uint segmentSize, IActorRef bootstrapper, DaemonCounters counters,
        FailureLog failures, OrderedFramedSegments? framed)
    {
        _stream = stream;
        _failures = failures;
        Receive<SegmentsSpooled>(_ => Start(local));
        Receive<TableListChanged>(_ => Start(local));
        Receive<StateRead>(read =>
        {
            var sinks = Appliers(read.Tables, local, settings, segmentSize);
            var needing = read.Tables.Where(t => t.NeedsBootstrap).Select(t => t.Table.ToString()).ToList();
            // After a wait or a failure the next attempt comes no earlier than the bootstrapper's backoff allows
            // (a timer asks then); a stream pass in between does not ask again.
            if (needing.Count > 0 && !_bootstrapping && DateTimeOffset.UtcNow >= _bootstrapNotBefore)
            {
                _bootstrapping = true;
                if (_bootstrapNotBefore == DateTimeOffset.MinValue)
                    _log.Info("bootstrapping {Tables} from the newest base backup", string.Join(", ", needing));
                bootstrapper.Tell(new BootstrapTables(needing));
            }

            if (read.Stream is null || sinks.Count == 0)
            {
                Self.Tell(new RunFinished(new RouteResult(0, 0, [], false)));
                return;
            }

            RunAsync(read.Stream, sinks, framed).PipeTo(Self, success: r => new RunFinished(r));
        });
        Receive<RunFinished>(done =>
        {
            _running = false;
            var result = done.Result;
            counters.AddRecords(result.Rows);
            foreach (var paused in result.Outcomes.OfType<TableBatchOutcome.Paused>())
            {
                counters.AddError();
                _log.Warning("table {Table} paused at {Lsn} ({File}): {Cause}", paused.Table, paused.Lsn, paused.ArchiveFile, paused.Cause);
            }

            if (result.Rows > 0)
                _log.Info("stream: {Transactions} transaction(s) and {Rows} row change(s) applied", result.Transactions, result.Rows);
            if (result.Superseded || _again)
            {
                _again = false;
                Start(local);
            }
        });
        Receive<BootstrapFinished>(done =>
        {
            _bootstrapping = false;
            if (done.Copied)
            {
                _bootstrapNotBefore = DateTimeOffset.MinValue;
                foreach (var _ in done.Refused) counters.AddError();
                var copied = done.Tables.Except(done.Refused).ToList();
                if (copied.Count > 0) _log.Info("bootstrapped {Tables}", string.Join(", ", copied));
                Start(local);
                return;
            }

            if (done.Problem is null) return;
            // Every failed attempt counts in status; the bootstrapper logged the cause once and counts the repeats on its row.
            if (done.Failed) counters.AddError();
            _bootstrapNotBefore = done.RetryAt ?? DateTimeOffset.UtcNow;
            _bootstrapRetry?.Cancel();
            var delay = _bootstrapNotBefore - DateTimeOffset.UtcNow;
            _bootstrapRetry = Context.System.Scheduler.ScheduleTellOnceCancelable(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, Self, RetryBootstrap.Instance, Self);
        });
        Receive<RetryBootstrap>(_ => Start(local));
        Receive<Status.Failure>(failure =>
        {
            _running = false;
            counters.AddError();
            throw new SyncCycleFailedException(failure.Cause.GetBaseException().Message, failure.Cause);
        });
    }

    /// <summary>
    /// One stream run. A failure is reported before it is rethrown (one FAILED row per cause, repeats counted; an
    /// unreachable local database is logged once it is back); a run that succeeds ends the causes met before.
    /// </summary>
    private async Task<RouteResult> RunAsync(StreamState stream, List<(ITableSink Sink, DataSync.Wal.Lsn Checkpoint)> sinks, OrderedFramedSegments? framed)
    {
        RouteResult result;
        var segments = _stream.SegmentsFrom(stream.RestartLsn);
        try
        {
            result = await _stream.RunAsync(stream, sinks, segments, () => _bootstrapping, CancellationToken.None, framed is null ? null : framed.Over).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The files are named on the timeline the run followed (the newest one's, after a switch).
            var timeline = segments is [.., var last] && DataSync.Wal.Segments.WalSegmentName.TryParse(last, out var name) ? name.Timeline : 1u;
            if (await _failures.ReportAsync(Scope, "the stream (decoding the WAL for every synced table)", e,
                    "nothing past this point is applied for any table until it is fixed; the stream retries on its own with a growing pause", CancellationToken.None,
                    lsn => _stream.SegmentOf(timeline, lsn)).ConfigureAwait(false))
                _log.Error("the stream failed (retried with a growing pause; repeats are counted, not logged): {Cause}", TableBootstrapper.Describe(e));
            throw;
        }

        if (await _failures.SucceededAsync(Scope, CancellationToken.None).ConfigureAwait(false) is { } outage)
            _log.Warning("the local database is back: {Outage}", outage);
        return result;
    }

    /// <summary>The part of the sync this coordinator reports failures as.</summary>
    private const string Scope = "stream";

    public static Props Props(StreamDecoding stream, NpgsqlDataSource local, DataSyncSettings settings, uint segmentSize, IActorRef bootstrapper, DaemonCounters counters,
        FailureLog failures, OrderedFramedSegments? framed) =>
        Akka.Actor.Props.Create(() => new StreamCoordinator(stream, local, settings, segmentSize, bootstrapper, counters, failures, framed));

    protected override void PostStop()
    {
        _bootstrapRetry?.Cancel();
        base.PostStop();
    }

    // Each stream run reads the state afresh: the database, not this actor, is the truth.
    private void Start(NpgsqlDataSource local)
    {
        if (_running)
        {
            _again = true;
            return;
        }

        _running = true;
        ReadStateAsync(local).PipeTo(Self);
    }

    private async Task<StateRead> ReadStateAsync(NpgsqlDataSource local)
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
            _failures.Outage.Met("reading the sync state", e);
            throw;
        }
    }

    /// <summary>One applier per syncing table; appliers of tables no longer synced are stopped.</summary>
    private List<(ITableSink Sink, DataSync.Wal.Lsn Checkpoint)> Appliers(IReadOnlyList<TableSyncState> tables, NpgsqlDataSource local, DataSyncSettings settings, uint segmentSize)
    {
        var listed = tables.Select(t => t.Table.ToString()).ToHashSet();
        foreach (var gone in _appliers.Keys.Where(k => !listed.Contains(k)).ToList())
        {
            Context.Stop(_appliers[gone].Applier);
            _appliers.Remove(gone);
        }

        var sinks = new List<(ITableSink, DataSync.Wal.Lsn)>();
        foreach (var table in tables.Where(t => t.State == TableState.Syncing))
        {
            var key = table.Table.ToString();
            if (!_appliers.TryGetValue(key, out var sink))
            {
                var actor = Context.ActorOf(TableApplier.Props(new TableBatch(local, settings, table.Table, segmentSize)), $"{TableApplier.ActorName(table.Table)}-{++_applierGeneration}");
                _appliers[key] = sink = new TableApplierSink(table.Table, actor);
            }

            sinks.Add((sink, table.Checkpoint));
        }

        return sinks;
    }

    private sealed record StateRead(IReadOnlyList<TableSyncState> Tables, StreamState? Stream);

    private sealed record RunFinished(RouteResult Result);

    private sealed record RetryBootstrap
    {
        public static RetryBootstrap Instance { get; } = new();
    }
}

/// <summary>A stream run failed (database down, archive unreadable, corrupt segment...); the message says what and where.</summary>
public sealed class SyncCycleFailedException(string message, Exception inner) : Exception(message, inner);
