using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// Fills <c>data_sync_metrics</c> from the SUCCESS rows of <c>data_sync_logs</c>: per synced table, the
/// inserted, updated and deleted counts of the last METRIC_FREQ hours (FREQ), of the current ISO week
/// (WEEK, from Monday) and of the current calendar month (MONTH), upserted on (table, start, type) so
/// a rerun refreshes the current week's and month's rows instead of adding more.
/// </summary>
public sealed class MetricsAggregator(NpgsqlDataSource local, int metricFrequencyHours)
{
    public async Task<int> AggregateAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = local.CreateCommand("""
            INSERT INTO data_sync_metrics (table_name, period_start, period_end, period_type, records_added, records_updated, records_deleted)
            SELECT t.table_name, p.period_start, p.period_end, p.period_type,
                   coalesce(sum(l.rows_inserted), 0), coalesce(sum(l.rows_updated), 0), coalesce(sum(l.rows_deleted), 0)
            FROM tables_to_sync t
            CROSS JOIN (VALUES
                ('FREQ', $1::timestamptz - make_interval(hours => $2), $1::timestamptz),
                ('WEEK', date_trunc('week', $1::timestamptz, 'UTC'), date_trunc('week', $1::timestamptz, 'UTC') + interval '1 week'),
                ('MONTH', date_trunc('month', $1::timestamptz, 'UTC'), date_trunc('month', $1::timestamptz, 'UTC') + interval '1 month')
            ) AS p (period_type, period_start, period_end)
            LEFT JOIN data_sync_logs l
                ON l.table_name = t.table_name AND l.status = 'SUCCESS' AND l.sync_time >= p.period_start AND l.sync_time < p.period_end
            GROUP BY t.table_name, p.period_type, p.period_start, p.period_end
            ON CONFLICT (table_name, period_start, period_type) DO UPDATE SET
                period_end = EXCLUDED.period_end,
                records_added = EXCLUDED.records_added,
                records_updated = EXCLUDED.records_updated,
                records_deleted = EXCLUDED.records_deleted
            """);
        command.Parameters.AddWithValue(now);
        command.Parameters.AddWithValue(metricFrequencyHours);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
