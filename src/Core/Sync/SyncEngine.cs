using DataSync.Wal;
using DataSync.Wal.Changes;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// The whole sync as one sequential pass, in one process: fetch new segments into the spool, bootstrap
/// the tables that need it, then go on with the <see cref="LiveStream"/> (kept from cycle to cycle, so a
/// transaction open across segments is not decoded again) and apply through one <see cref="TableBatch"/>
/// per table. The daemon drives the same parts from its actors (archive watcher, bootstrapper, decoder
/// pool, coordinator, one applier per table); this pass is what tools and tests drive directly.
/// </summary>
public sealed class SyncEngine : IAsyncDisposable
{
    private readonly NpgsqlDataSource _local;
    private SyncOptions _options;

    // Made at the first cycle: the WAL segment size they need is read from the archive then.
    private SyncParts? _parts;
    private LiveStream? _stream;
    private readonly TableSinkSet<TableBatch> _sinks;
    private readonly List<TableBatch> _retired = [];

    public SyncEngine(SyncOptions options, NpgsqlDataSource local)
    {
        _options = options;
        _local = local;
        _sinks = new TableSinkSet<TableBatch>(table => new TableBatch(_local, _options.Settings, table.Table, _options.SegmentSize, text => _options.Progress?.Report(text)), _retired.Add);
    }

    /// <summary>Rows applied since this engine was made (the daemon's "records synced").</summary>
    public long RowsApplied { get; private set; }

    public async Task<SyncCycleResult> RunCycleAsync(CancellationToken cancellationToken)
    {
        if (_parts is null)
        {
            _options = await _options.WithSegmentSizeAsync(cancellationToken).ConfigureAwait(false);
            _parts = new SyncParts(_options, _local);
        }

        await using var connection = await _local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var tables = await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false);
        var fetched = await _parts.FetchAsync(cancellationToken).ConfigureAwait(false);
        if (fetched.SpoolWarning is { RowsWritten: > 0 } spool) _options.Progress?.Report(spool.Message);

        var bootstrapped = new List<string>();
        BootstrapOutcome? bootstrap = null;
        var needing = tables.Where(t => t.NeedsBootstrap).ToList();
        if (needing.Count > 0)
        {
            bootstrap = await _parts.Bootstrapper.BootstrapAsync(tables, needing, cancellationToken).ConfigureAwait(false);
            if (bootstrap.IsCopied)
            {
                bootstrapped.AddRange(needing.Where(t => bootstrap.Refused.All(r => r.Table != t.Table)).Select(t => t.Table.ToString()));
                foreach (var refused in bootstrap.Refused) _options.Progress?.Report($"bootstrap refused {refused.Table}: {refused.Cause}");
            }

            // Each cause once: a wait or failure that repeats is counted in the tables' status, not reported again.
            else if (bootstrap.NewCause) _options.Progress?.Report($"bootstrap {(bootstrap.Result == BootstrapResult.Waiting ? "waits" : "failed")}: {bootstrap.Message}");
        }

        long transactions = 0, rows = 0;
        var paused = new List<string>();
        _stream ??= _parts.NewStream();
        while (true)
        {
            tables = await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false);
            var stream = await SyncState.ReadStreamAsync(connection, cancellationToken).ConfigureAwait(false);
            if (stream is null) break;
            _stream.Prepare(stream);
            var sinks = _sinks.For(tables);
            await RetireAsync().ConfigureAwait(false);
            if (sinks.Count == 0) break;
            // A couple of segments at a time: framed pooled memory stays bounded however long the backlog.
            var planned = _stream.Plan(SegmentsAhead);
            foreach (var request in planned) _stream.FrameAndCollect(request);
            if (!_stream.Feed()) break;
            var result = await _stream.RouteAsync(sinks, cancellationToken).ConfigureAwait(false);
            transactions += result.Transactions;
            rows += result.Rows;
            paused.AddRange(result.Outcomes.OfType<TableBatchOutcome.Paused>().Select(p => p.Table.ToString()));
            if (!result.Superseded && planned.Count == 0) break;
        }

        RowsApplied += rows;
        return new SyncCycleResult(fetched.Fetched, bootstrapped, transactions, rows, fetched.MissingSegment, paused)
        {
            Bootstrap = bootstrap,
        };
    }

    /// <summary>Segments framed ahead of the decoder in one step of the cycle.</summary>
    private const int SegmentsAhead = 2;

    /// <summary>Segments framed since this engine was made: each once while its stream lives (what the linear-cost test counts).</summary>
    public long SegmentsFramed => _stream?.SegmentsFramed ?? 0;

    /// <summary>The spill store of this engine's stream (its counters show how often open transactions were written out).</summary>
    public SpillStore? Spill => _parts?.Spill;

    private async Task RetireAsync()
    {
        foreach (var batch in _retired) await batch.DisposeAsync().ConfigureAwait(false);
        _retired.Clear();
    }

    public async ValueTask DisposeAsync()
    {
        _stream?.Dispose();
        _sinks.Clear();
        await RetireAsync().ConfigureAwait(false);
    }
}
