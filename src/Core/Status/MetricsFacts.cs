using DataSync.Core.Archive;
using DataSync.Core.Sync;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Status;

/// <summary>
/// What the metrics endpoint reads from the local database at each scrape: every listed table's state, checkpoint, lag
/// and last failure, and where the stream stands. Lag follows <c>status --verbose</c>: measured against the newest commit
/// to a synced table the stream has routed, zero once the table's checkpoint reached it, unknown while it bootstraps.
/// </summary>
public sealed record MetricsFacts(IReadOnlyList<TableMetricsFacts> Tables, StreamStanding? Stream, Lsn? RoutedLsn, SpoolUsage Spool)
{
    public static async Task<MetricsFacts> ReadAsync(NpgsqlDataSource dataSource, string spoolDirectory, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var tables = new List<TableMetricsFacts>();
        Lsn? routed = null;
        await using (var command = new NpgsqlCommand("""
            SELECT t.table_name, coalesce(s.state, 'new'), s.checkpoint_lsn,
                CASE WHEN s.checkpoint_lsn IS NULL OR st.routed_lsn IS NULL OR coalesce(s.state, 'new') IN ('new', 'resync-requested', 'cleared') THEN NULL
                     WHEN s.checkpoint_lsn >= st.routed_lsn THEN 0
                     WHEN s.checkpoint_time IS NULL OR st.routed_time IS NULL THEN NULL
                     ELSE greatest(extract(epoch FROM st.routed_time - s.checkpoint_time), 0)::float8 END,
                CASE WHEN s.checkpoint_lsn IS NULL OR st.routed_lsn IS NULL OR coalesce(s.state, 'new') IN ('new', 'resync-requested', 'cleared') THEN NULL
                     ELSE greatest(st.routed_lsn - s.checkpoint_lsn, 0)::float8 END,
                (SELECT max(coalesce(l.last_occurred_at, l.sync_time)) FROM data_sync_logs l WHERE l.table_name = t.table_name AND l.status = 'FAILED'),
                coalesce(s.rows_synced, 0),
                st.routed_lsn
            FROM tables_to_sync t LEFT JOIN datasync_table_state s ON s.table_name = t.table_name
                LEFT JOIN datasync_stream st ON true
            ORDER BY t.id
            """, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tables.Add(new TableMetricsFacts(
                    reader.GetString(0),
                    reader.GetString(1),
                    reader.GetLsnOrNull(2),
                    reader.IsDBNull(3) ? null : reader.GetDouble(3),
                    reader.IsDBNull(4) ? null : reader.GetDouble(4),
                    reader.IsDBNull(5) ? null : new DateTimeOffset(DateTime.SpecifyKind(reader.GetDateTime(5), DateTimeKind.Utc)),
                    reader.GetInt64(6)));
                routed = reader.GetLsnOrNull(7);
            }
        }

        var stream = await StreamStanding.ReadAsync(connection, cancellationToken).ConfigureAwait(false);
        return new MetricsFacts(tables, stream, routed, WalSpool.UsageOf(spoolDirectory));
    }
}
