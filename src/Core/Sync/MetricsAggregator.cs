using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// Fills <c>data_sync_metrics</c> from the SUCCESS rows of <c>data_sync_logs</c>: per table, the inserted,
/// updated, deleted and truncated counts of each METRIC_FREQ-hour window (FREQ), ISO week (WEEK, from Monday) and
/// calendar month (MONTH), all in UTC, upserted on (table, start, type).
/// </summary>
/// <remarks>
/// FREQ windows are fixed: consecutive METRIC_FREQ-hour spans counted from the Unix epoch, not "the last
/// METRIC_FREQ hours before this run". A sliding window would overlap the previous run's whenever the daemon
/// runs the aggregation early (at start, at stop) and its rows would count changes twice.
/// Each run recomputes every window from the one before the window still open at the previous run (the
/// newest <c>period_start</c> of each type) up to the one open now, so a window that closed between two runs,
/// however long apart, gets the rows that came after the earlier run inside it. The one window more covers
/// a batch whose row was stamped (its transaction's start) before a window ended and committed after a run
/// in the next one. A window is final once two runs have passed its end.
/// The current windows get a row for every synced table even when it had no changes.
/// </remarks>
public sealed class MetricsAggregator(NpgsqlDataSource local, int metricFrequencyHours)
{
    /// <summary>Upserts the windows that changed since the last run; returns the number of rows written.</summary>
    public async Task<int> AggregateAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = local.CreateCommand("""
            WITH since AS (
                SELECT period_type, max(period_start) - CASE period_type
                           WHEN 'FREQ' THEN make_interval(hours => $2) WHEN 'WEEK' THEN interval '1 week' ELSE interval '1 month' END AS open_start
                FROM data_sync_metrics GROUP BY period_type
            ),
            first_open AS (
                SELECT min(open_start) AS at FROM since
            ),
            windows AS (
                SELECT l.table_name, p.period_type, p.period_start, p.period_end, l.rows_inserted, l.rows_updated, l.rows_deleted, l.rows_truncated
                FROM data_sync_logs l
                CROSS JOIN LATERAL (VALUES
                    ('FREQ', to_timestamp(floor(extract(epoch FROM l.sync_time) / ($2 * 3600)) * ($2 * 3600)),
                             to_timestamp(floor(extract(epoch FROM l.sync_time) / ($2 * 3600)) * ($2 * 3600)) + make_interval(hours => $2)),
                    ('WEEK', date_trunc('week', l.sync_time, 'UTC'), date_trunc('week', l.sync_time, 'UTC') + interval '1 week'),
                    ('MONTH', date_trunc('month', l.sync_time, 'UTC'), date_trunc('month', l.sync_time, 'UTC') + interval '1 month')
                ) AS p (period_type, period_start, period_end)
                WHERE l.status = 'SUCCESS' AND l.sync_time < $1
                  AND l.sync_time >= coalesce((SELECT at FROM first_open), '-infinity')
                UNION ALL
                SELECT t.table_name, p.period_type, p.period_start, p.period_end, 0, 0, 0, 0
                FROM tables_to_sync t
                CROSS JOIN (VALUES
                    ('FREQ', to_timestamp(floor(extract(epoch FROM $1) / ($2 * 3600)) * ($2 * 3600)),
                             to_timestamp(floor(extract(epoch FROM $1) / ($2 * 3600)) * ($2 * 3600)) + make_interval(hours => $2)),
                    ('WEEK', date_trunc('week', $1, 'UTC'), date_trunc('week', $1, 'UTC') + interval '1 week'),
                    ('MONTH', date_trunc('month', $1, 'UTC'), date_trunc('month', $1, 'UTC') + interval '1 month')
                ) AS p (period_type, period_start, period_end)
            )
            INSERT INTO data_sync_metrics (table_name, period_start, period_end, period_type, records_added, records_updated, records_deleted, records_truncated)
            SELECT w.table_name, w.period_start, w.period_end, w.period_type, sum(w.rows_inserted), sum(w.rows_updated), sum(w.rows_deleted), sum(w.rows_truncated)
            FROM windows w
            LEFT JOIN since s ON s.period_type = w.period_type
            WHERE s.open_start IS NULL OR w.period_start >= s.open_start
            GROUP BY w.table_name, w.period_type, w.period_start, w.period_end
            ON CONFLICT (table_name, period_start, period_type) DO UPDATE SET
                period_end = EXCLUDED.period_end,
                records_added = EXCLUDED.records_added,
                records_updated = EXCLUDED.records_updated,
                records_deleted = EXCLUDED.records_deleted,
                records_truncated = EXCLUDED.records_truncated
            """);
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(metricFrequencyHours);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
