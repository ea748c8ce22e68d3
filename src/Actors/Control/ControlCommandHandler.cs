using DataSync.Actors.Daemon;
using DataSync.Core;
using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Core.Configuration;
using DataSync.Core.Local;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.Messages.Control;
using Npgsql;

namespace DataSync.Actors.Control;

/// <summary>
/// What each CLI request does, as plain code: the daemon's control endpoint runs it for requests that
/// arrive over remoting, and the CLI runs the same code directly on the database when no daemon runs,
/// so both paths print the same lines and return the same exit codes. <paramref name="bootstrapProgress"/> is the running
/// daemon's bootstrap progress (null without a daemon: then no bootstrap runs).
/// </summary>
public sealed class ControlCommandHandler(DataSyncSettings settings, NpgsqlDataSource dataSource, DaemonCounters? counters, BootstrapProgress? bootstrapProgress = null)
{
    private readonly TableRegistry _registry = new(dataSource);

    public async Task<ControlReply> AddTablesAsync(IReadOnlyList<string> tables, string creator, CancellationToken cancellationToken = default)
    {
        var changes = await _registry.AddAsync(Parse(tables), creator, cancellationToken).ConfigureAwait(false);
        return Report(changes);
    }

    public async Task<ControlReply> RemoveTablesAsync(IReadOnlyList<string> tables, CancellationToken cancellationToken = default)
    {
        var changes = await _registry.RemoveAsync(Parse(tables), cancellationToken).ConfigureAwait(false);
        return Report(changes);
    }

    public async Task<ControlReply> ClearAsync(CancellationToken cancellationToken = default)
    {
        var cleared = await new TableMaintenance(dataSource, _registry).ClearAllAsync(cancellationToken).ConfigureAwait(false);
        return cleared.Count == 0
            ? ControlReply.Ok("no tables are synced; nothing to clear")
            : ControlReply.Ok(cleared.Select(t => $"cleared {t} (paused until: datasync resync {t})").ToArray());
    }

    public async Task<ControlReply> RequestResyncAsync(IReadOnlyList<string> tables, bool daemonRunning, CancellationToken cancellationToken = default)
    {
        var changes = await new TableMaintenance(dataSource, _registry).RequestResyncAsync(Parse(tables), cancellationToken).ConfigureAwait(false);
        var output = new List<string>();
        var errors = new List<string>();
        foreach (var change in changes)
        {
            switch (change.Outcome)
            {
                case TableListOutcome.Added:
                    output.Add(daemonRunning
                        ? $"resync of {change.Table} started; the other tables keep syncing"
                        : $"resync of {change.Table} requested; no daemon is running, so it runs when the daemon starts");
                    break;
                case TableListOutcome.NotListed:
                    errors.Add($"{change.Table} is not in the sync list (add it with datasync add-tables)");
                    break;
                default:
                    errors.Add(change.ToString());
                    break;
            }
        }

        return new ControlReply(errors.Count == 0 ? 0 : 1, output, errors);
    }

    /// <summary>The running daemon's status; the CLI renders it with the spec's lines.</summary>
    public async Task<StatusReply> StatusAsync(CancellationToken cancellationToken = default)
    {
        IReadOnlyList<TableStatus> tables = [];
        DateTimeOffset? lastSuccess = null;
        string? problem = null;
        var spool = Path.Combine(settings.StateDir, "spool");
        IReadOnlyList<string> streamLines = [StreamStanding.SpoolLine(WalSpool.UsageOf(spool), new SpoolUsage(0, 0), settings.SpoolWarnMb)];
        StreamStatus? stream = null;
        try
        {
            tables = await TablesAsync(dataSource, cancellationToken).ConfigureAwait(false);
            lastSuccess = await LastSuccessfulSyncAsync(dataSource, cancellationToken).ConfigureAwait(false);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (await StreamStanding.ReadAsync(connection, cancellationToken).ConfigureAwait(false) is { } standing)
            {
                streamLines = standing.StatusLines(spool, settings.SpoolWarnMb);
                stream = StreamStatusOf(standing, spool);
            }
        }
        catch (Exception e) when (LocalDatabase.IsUnreachable(e))
        {
            // The daemon runs whatever its database does; status says so instead of failing (and looking stopped).
            problem = LocalDatabase.Unreachable(e, settings);
        }

        return new StatusReply(
            Environment.ProcessId,
            counters?.StartTime ?? DateTimeOffset.UtcNow,
            settings.DataSyncFreqSeconds,
            counters?.RecordsSynced ?? 0,
            counters?.Errors ?? 0,
            lastSuccess,
            tables,
            problem,
            streamLines,
            stream,
            RunningBootstrap());
    }

    /// <summary>
    /// How the bootstrap of <paramref name="tables"/> goes (<c>resync --wait</c> asks it every moment): each table's state and
    /// detail, how the last attempt that did not copy it ended, its newest BOOTSTRAP row once it syncs, and the running
    /// bootstrap's progress when that bootstrap copies one of them.
    /// </summary>
    public async Task<BootstrapProgressReply> BootstrapProgressAsync(IReadOnlyList<string> tables, CancellationToken cancellationToken = default)
    {
        var names = Parse(tables).Select(t => t.ToString()).ToList();
        var standings = new List<BootstrapTableStanding>();
        // The BOOTSTRAP row is looked up only for a table that syncs again: the log is long, and polls are frequent.
        await using (var command = dataSource.CreateCommand("""
            SELECT t.name, coalesce(s.state, 'new'), s.error_detail, b.rows_synced::bigint, b.duration_ms
            FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i)
            LEFT JOIN datasync_table_state s ON s.table_name = t.name
            LEFT JOIN LATERAL (SELECT l.rows_synced, l.duration_ms FROM data_sync_logs l
                               WHERE coalesce(s.state, 'new') = 'syncing' AND l.table_name = t.name AND l.status = 'BOOTSTRAP'
                               ORDER BY l.sync_time DESC LIMIT 1) b ON true
            ORDER BY t.i
            """))
        {
            command.Parameters.AddWithValue(names.ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var table = reader.GetString(0);
                var end = bootstrapProgress?.LastEndOf(table);
                standings.Add(new BootstrapTableStanding(
                    table,
                    reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    end?.Failed,
                    end?.Message,
                    end?.At,
                    reader.IsDBNull(3) ? null : reader.GetInt64(3),
                    reader.IsDBNull(4) ? null : reader.GetInt64(4)));
            }
        }

        var running = RunningBootstrap();
        return new BootstrapProgressReply(standings, running is not null && running.Tables.Any(names.Contains) ? running : null);
    }

    /// <summary>The bootstrap running in this daemon now, as the control channel carries it; null when none runs.</summary>
    private BootstrapProgressStatus? RunningBootstrap()
    {
        if (bootstrapProgress?.Snapshot() is not { } now) return null;
        static string? Text(DataSync.Wal.Lsn lsn) => lsn.IsValid ? lsn.ToString() : null;
        return new BootstrapProgressStatus(
            now.Tables,
            now.Phase.ToString().ToLowerInvariant(),
            now.Note,
            now.BaseBackup,
            now.Elapsed.TotalSeconds,
            now.PhaseElapsed.TotalSeconds,
            now.RestoredBytes,
            now.RestoreTotalBytes,
            Text(now.ReplayFrom),
            Text(now.Replayed),
            Text(now.ReplayTarget),
            now.Copies.Select(c => new TableCopyStatus(c.Table, c.RowsCopied, c.RowsEstimated, c.Elapsed.TotalSeconds, c.Done)).ToList());
    }

    private static StreamStatus StreamStatusOf(StreamStanding standing, string spool)
    {
        var all = WalSpool.UsageOf(spool);
        var decoded = standing.KeptForRestart(spool);
        var oldest = standing.OldestXid is { } xid
            ? new OpenTransactionStatus(xid, standing.OldestLsn?.ToString(), standing.OldestSegment, standing.OldestOpenBy, standing.OldestOpenBy is null ? null : standing.WalTime)
            : null;
        return new StreamStatus(standing.RestartLsn.ToString(), standing.RestartSegment, standing.LastSegment, oldest, all.Segments, all.Bytes, decoded.Segments, decoded.Bytes);
    }

    /// <summary>
    /// Every listed table's state, checkpoint, last archive file, lag and detail (pause cause, or why its bootstrap waits).
    /// Lag is measured on production's clock, against the newest commit to a synced table the stream has routed: none
    /// when the table's checkpoint has reached it, else the time from the commit at its checkpoint to that one.
    /// </summary>
    private static async Task<IReadOnlyList<TableStatus>> TablesAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var tables = new List<TableStatus>();
        await using var command = dataSource.CreateCommand("""
            SELECT t.table_name, coalesce(s.state, 'new'), s.checkpoint_lsn, s.last_archive_file,
                CASE WHEN s.checkpoint_lsn IS NULL OR st.routed_lsn IS NULL OR coalesce(s.state, 'new') IN ('new', 'resync-requested', 'cleared') THEN NULL
                     WHEN s.checkpoint_lsn >= st.routed_lsn THEN interval '0'
                     WHEN s.checkpoint_time IS NULL OR st.routed_time IS NULL THEN NULL
                     ELSE greatest(st.routed_time - s.checkpoint_time, interval '0') END,
                s.error_detail
            FROM tables_to_sync t LEFT JOIN datasync_table_state s ON s.table_name = t.table_name
                LEFT JOIN datasync_stream st ON true
            ORDER BY t.id
            """);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tables.Add(new TableStatus(
                reader.GetString(0), reader.GetString(1),
                reader.GetLsnOrNull(2)?.ToString(),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<TimeSpan>(4),
                reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return tables;
    }

    private static async Task<DateTimeOffset?> LastSuccessfulSyncAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var query = dataSource.CreateCommand("SELECT max(sync_time) FROM data_sync_logs WHERE status = 'SUCCESS'");
        return await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime last
            ? new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc))
            : null;
    }

    private static IReadOnlyList<TableName> Parse(IReadOnlyList<string> tables) => TableNameParser.ParseList(tables);

    private static ControlReply Report(IReadOnlyList<TableListChange> changes)
    {
        // A table that is not listed cannot be removed: like resync, that is an error (exit 1), not a quiet success.
        static bool Failed(TableListChange c) => c.Outcome is TableListOutcome.Refused or TableListOutcome.NotListed;
        var refused = changes.Where(Failed).Select(c => c.ToString()).ToList();
        var done = changes.Where(c => !Failed(c)).Select(c => c.ToString()).ToList();
        return new ControlReply(refused.Count == 0 ? 0 : 1, done, refused);
    }
}
