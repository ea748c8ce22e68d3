using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// The whole sync as one sequential pass, in one process: fetch new segments into the spool, bootstrap
/// the tables that need it, then decode from the stream's restart point and apply through one
/// <see cref="TableBatch"/> per table. The daemon runs the same parts as separate actors (archive
/// watcher, bootstrap, decoders, one applier per table); this pass is what tools and tests drive directly.
/// </summary>
public sealed class SyncEngine : IAsyncDisposable
{
    private readonly NpgsqlDataSource _local;
    private SyncOptions _options;

    // Made at the first cycle: the WAL segment size they need is read from the archive then.
    private SyncParts? _parts;
    private readonly Dictionary<string, TableBatch> _batches = [];

    public SyncEngine(SyncOptions options, NpgsqlDataSource local)
    {
        _options = options;
        _local = local;
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
        while (true)
        {
            tables = await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false);
            var stream = await SyncState.ReadStreamAsync(connection, cancellationToken).ConfigureAwait(false);
            if (stream is null) break;
            var result = await _parts.Stream.RunAsync(stream, SinksFor(tables), _parts.Stream.SegmentsFrom(stream.RestartLsn), null, cancellationToken).ConfigureAwait(false);
            transactions += result.Transactions;
            rows += result.Rows;
            paused.AddRange(result.Outcomes.OfType<TableBatchOutcome.Paused>().Select(p => p.Table.ToString()));
            if (!result.Superseded) break;
        }

        RowsApplied += rows;
        return new SyncCycleResult(fetched.Fetched, bootstrapped, transactions, rows, fetched.MissingSegment, paused)
        {
            Bootstrap = bootstrap,
        };
    }

    private IReadOnlyList<(ITableSink Sink, Lsn Checkpoint)> SinksFor(IReadOnlyList<TableSyncState> tables)
    {
        var sinks = new List<(ITableSink, Lsn)>();
        foreach (var table in tables.Where(t => t.State == TableState.Syncing))
        {
            var key = table.Table.ToString();
            if (!_batches.TryGetValue(key, out var batch))
                _batches[key] = batch = new TableBatch(_local, _options.Settings, table.Table, _options.SegmentSize);
            sinks.Add((batch, table.Checkpoint));
        }

        return sinks;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var batch in _batches.Values) await batch.DisposeAsync().ConfigureAwait(false);
        _batches.Clear();
    }
}
