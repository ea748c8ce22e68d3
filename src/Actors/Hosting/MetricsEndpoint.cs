using System.Net;
using DataSync.Actors.Daemon;
using DataSync.Core.Apply;
using DataSync.Core.Local;
using DataSync.Core.Status;
using DataSync.Core.Sync;
using Npgsql;
using Prometheus;

namespace DataSync.Actors.Hosting;

/// <summary>
/// The daemon's Prometheus endpoint, <c>http://127.0.0.1:METRICS_PORT/metrics</c>, served by prometheus-net. Every scrape
/// reads the tables' and the stream's standing from the local database (the same facts <c>status --verbose</c> shows)
/// and the in-process counters, so a value is never older than the scrape. Bound to loopback only, like the control port.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    /// <summary>The address the endpoint listens on; never another interface.</summary>
    public const string Host = "127.0.0.1";

    private static readonly string[] States = Enum.GetValues<TableState>().Select(s => s.ToText()).ToArray();

    private readonly NpgsqlDataSource _dataSource;
    private readonly DaemonCounters _counters;
    private readonly string _spoolDirectory;
    private readonly MetricServer _server;
    private readonly HashSet<string> _tablesSeen = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _refreshing = new(1, 1);

    private readonly Gauge _lagSeconds;
    private readonly Gauge _lagBytes;
    private readonly Gauge _state;
    private readonly Gauge _lastError;
    private readonly Gauge _checkpoint;
    private readonly Counter _rowsApplied;
    private readonly Gauge _localDatabaseUp;
    private readonly Gauge _restartLsn;
    private readonly Gauge _routedLsn;
    private readonly Gauge _oldestOpenAge;
    private readonly Gauge _spoolSegments;
    private readonly Gauge _spoolBytes;
    private readonly Gauge _bootstrapPending;
    private readonly Counter _segmentsDecoded;
    private readonly Counter _walBytesDecoded;
    private readonly Counter _errors;

    private MetricsEndpoint(NpgsqlDataSource dataSource, DaemonCounters counters, string spoolDirectory, int port)
    {
        _dataSource = dataSource;
        _counters = counters;
        _spoolDirectory = spoolDirectory;
        var registry = Metrics.NewCustomRegistry();
        var metrics = Metrics.WithCustomRegistry(registry);
        string[] table = ["table"];
        _lagSeconds = metrics.CreateGauge("datasync_table_lag_seconds",
            "How far the table is behind production, on production's clock: from the commit at its checkpoint to the newest commit to a synced table decoded from the archive (0 when it has that one).", table);
        _lagBytes = metrics.CreateGauge("datasync_table_lag_bytes", "WAL bytes between the table's checkpoint and the newest commit to a synced table decoded from the archive.", table);
        _state = metrics.CreateGauge("datasync_table_state", "1 for the table's current state, 0 for the others.", "table", "state");
        _lastError = metrics.CreateGauge("datasync_table_last_error_timestamp_seconds", "Unix time of the table's newest FAILED row in data_sync_logs (absent when none).", table);
        _checkpoint = metrics.CreateGauge("datasync_table_checkpoint_lsn_bytes", "The table's checkpoint LSN as a byte position in the WAL.", table);
        _rowsApplied = metrics.CreateCounter("datasync_rows_applied_total",
            "Row changes committed to the local table since the daemon started, as production made them (before netting), by operation; truncate counts rows an upstream TRUNCATE removed.", "table", "operation");
        _localDatabaseUp = metrics.CreateGauge("datasync_local_database_up", "1 when the last scrape could read the local database, else 0 (the table and stream values are then the last ones read).");
        _restartLsn = metrics.CreateGauge("datasync_stream_restart_lsn_bytes", "Where decoding resumes after a restart (the oldest open production transaction's first record, or the newest batch end), as a byte position.");
        _routedLsn = metrics.CreateGauge("datasync_stream_routed_lsn_bytes", "The newest commit to a synced table the stream has decoded and routed, as a byte position.");
        _oldestOpenAge = metrics.CreateGauge("datasync_oldest_open_transaction_age_seconds",
            "How long the oldest open production transaction (the one holding the restart point) has been open, by the newest commit in the WAL; 0 when none.");
        _spoolSegments = metrics.CreateGauge("datasync_spool_segments", "WAL segment files in STATE_DIR/spool.");
        _spoolBytes = metrics.CreateGauge("datasync_spool_bytes", "Bytes of WAL segment files in STATE_DIR/spool.");
        _bootstrapPending = metrics.CreateGauge("datasync_bootstrap_pending_tables", "Tables waiting for or running a bootstrap (state new or resync-requested).");
        _segmentsDecoded = metrics.CreateCounter("datasync_wal_segments_decoded_total", "WAL segments decoded since the daemon started.");
        _walBytesDecoded = metrics.CreateCounter("datasync_wal_decoded_bytes_total", "Bytes of WAL decoded since the daemon started.");
        _errors = metrics.CreateCounter("datasync_errors_total", "Errors since the daemon started (what status reports as errors).");
        DotNetStats.Register(registry);
        registry.AddBeforeCollectCallback(RefreshAsync);
        _server = new MetricServer(Host, port, "metrics/", registry);
    }

    /// <summary>Starts serving; a port already in use is a start-up error that names the port.</summary>
    public static MetricsEndpoint Start(NpgsqlDataSource dataSource, DaemonCounters counters, string spoolDirectory, int port)
    {
        var endpoint = new MetricsEndpoint(dataSource, counters, spoolDirectory, port);
        try
        {
            endpoint._server.Start();
        }
        catch (HttpListenerException e)
        {
            endpoint.Dispose();
            throw new DaemonStartException($"METRICS_PORT {port} on {Host} cannot be used: {e.Message}", e);
        }

        return endpoint;
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        // Two scrapes at once take turns: the set of tables seen is this endpoint's own state.
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await RefreshLockedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task RefreshLockedAsync(CancellationToken cancellationToken)
    {
        foreach (var (table, counts) in _counters.Applied()) Count(table, counts);
        _segmentsDecoded.IncTo(_counters.SegmentsDecoded);
        _walBytesDecoded.IncTo(_counters.WalBytesDecoded);
        _errors.IncTo(_counters.Errors);

        MetricsFacts facts;
        try
        {
            facts = await MetricsFacts.ReadAsync(_dataSource, _spoolDirectory, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (LocalDatabase.IsUnreachable(e))
        {
            _localDatabaseUp.Set(0);
            return;
        }

        _localDatabaseUp.Set(1);
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var pending = 0;
        foreach (var table in facts.Tables)
        {
            listed.Add(table.Table);
            foreach (var state in States) _state.WithLabels(table.Table, state).Set(state == table.State ? 1 : 0);
            if (table.State is "new" or "resync-requested") pending++;
            SetOrRemove(_lagSeconds, table.Table, table.LagSeconds);
            SetOrRemove(_lagBytes, table.Table, table.LagBytes);
            SetOrRemove(_lastError, table.Table, table.LastError?.ToUnixTimeMilliseconds() / 1000.0);
            SetOrRemove(_checkpoint, table.Table, table.Checkpoint?.Value);
        }

        // A table removed from the sync list leaves no series behind.
        foreach (var gone in _tablesSeen.Except(listed).ToList())
        {
            foreach (var state in States) _state.RemoveLabelled(gone, state);
            foreach (var gauge in new[] { _lagSeconds, _lagBytes, _lastError, _checkpoint }) gauge.RemoveLabelled(gone);
            _tablesSeen.Remove(gone);
        }

        _tablesSeen.UnionWith(listed);
        _bootstrapPending.Set(pending);
        _spoolSegments.Set(facts.Spool.Segments);
        _spoolBytes.Set(facts.Spool.Bytes);
        if (facts.Stream is { } stream)
        {
            _restartLsn.Set(stream.RestartLsn.Value);
            _oldestOpenAge.Set(Math.Max(0, stream.OldestOpenAtLeast?.TotalSeconds ?? 0));
        }

        if (facts.RoutedLsn is { } routed) _routedLsn.Set(routed.Value);
    }

    private void Count(string table, ApplyCounts counts)
    {
        _rowsApplied.WithLabels(table, "insert").IncTo(counts.Inserted);
        _rowsApplied.WithLabels(table, "update").IncTo(counts.Updated);
        _rowsApplied.WithLabels(table, "delete").IncTo(counts.Deleted);
        _rowsApplied.WithLabels(table, "truncate").IncTo(counts.Truncated);
    }

    private static void SetOrRemove(Gauge gauge, string table, double? value)
    {
        if (value is { } v) gauge.WithLabels(table).Set(v);
        else gauge.RemoveLabelled(table);
    }

    public void Dispose()
    {
        _server.Dispose();
        _refreshing.Dispose();
    }
}
