using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

public sealed class MetricsAggregatorTests
{
    [Fact]
    public async Task Sums_success_rows_per_table_for_fixed_freq_windows_iso_week_and_month_and_upserts()
    {
        await using var local = await LocalCluster.StartAsync("metrics");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        // Wednesday 2026-11-25 12:00 UTC: its 24-hour window starts that midnight, its ISO week Monday the 23rd, its month on the 1st.
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        await local.ExecuteAsync("""
            INSERT INTO tables_to_sync (table_name) VALUES ('public.a'), ('public.b');
            INSERT INTO data_sync_logs (table_name, status, rows_inserted, rows_updated, rows_deleted, sync_time) VALUES
                ('public.a', 'SUCCESS', 10, 1, 0, '2026-11-25 11:00Z'),   -- today's FREQ window, WEEK, MONTH
                ('public.a', 'SUCCESS', 4, 0, 0, '2026-11-24 23:00Z'),    -- yesterday's FREQ window, WEEK, MONTH
                ('public.a', 'SUCCESS', 5, 0, 2, '2026-11-23 08:00Z'),    -- its own FREQ window, WEEK and MONTH
                ('public.a', 'SUCCESS', 7, 0, 0, '2026-11-02 08:00Z'),    -- its own FREQ window and week, MONTH
                ('public.a', 'FAILED', 99, 99, 99, '2026-11-25 11:30Z'),  -- failures are not counted
                ('public.a', 'SUCCESS', 100, 0, 0, '2026-10-31 23:00Z');  -- last month
            """);

        await local.ExecuteAsync("UPDATE data_sync_logs SET rows_truncated = 30 WHERE sync_time = '2026-11-23 08:00Z'");

        var aggregator = new MetricsAggregator(dataSource, 24);
        await aggregator.AggregateAsync(now, CancellationToken.None);
        await local.ExecuteAsync("INSERT INTO data_sync_logs (table_name, status, rows_inserted, sync_time) VALUES ('public.a', 'SUCCESS', 1, '2026-11-25 11:59Z')");
        await aggregator.AggregateAsync(now, CancellationToken.None);

        async Task<string> Row(string table, string type, string start) => await local.QueryScalarAsync<string>(
            $"SELECT records_added || '/' || records_updated || '/' || records_deleted FROM data_sync_metrics WHERE table_name = '{table}' AND period_type = '{type}' AND period_start = '{start}Z'");
        Assert.Equal("11/1/0", await Row("public.a", "FREQ", "2026-11-25 00:00"));
        Assert.Equal("4/0/0", await Row("public.a", "FREQ", "2026-11-24 00:00"));
        Assert.Equal("20/1/2", await Row("public.a", "WEEK", "2026-11-23 00:00"));
        Assert.Equal("27/1/2", await Row("public.a", "MONTH", "2026-11-01 00:00"));
        Assert.Equal("100/0/0", await Row("public.a", "MONTH", "2026-10-01 00:00"));
        Assert.Equal("0/0/0", await Row("public.b", "MONTH", "2026-11-01 00:00"));
        Assert.Equal("0/0/0", await Row("public.b", "FREQ", "2026-11-25 00:00"));
        async Task<long> Truncated(string type, string start) => await local.QueryScalarAsync<long>(
            $"SELECT records_truncated FROM data_sync_metrics WHERE table_name = 'public.a' AND period_type = '{type}' AND period_start = '{start}Z'");
        Assert.Equal(30L, await Truncated("FREQ", "2026-11-23 00:00"));
        Assert.Equal(0L, await Truncated("FREQ", "2026-11-25 00:00"));
        Assert.Equal(30L, await Truncated("WEEK", "2026-11-23 00:00"));
        Assert.Equal(30L, await Truncated("MONTH", "2026-11-01 00:00"));
        Assert.Equal(0L, await Truncated("MONTH", "2026-10-01 00:00"));
    }

    /// <summary>
    /// A daemon restarted every few minutes for a simulated week that crosses a month's end: it aggregates at
    /// each start and stop (and every METRIC_FREQ hours while up), while batches are logged in between, some
    /// stamped before a window ends and committed after a run in the next one. Every window must end up with
    /// exactly the SUCCESS rows inside it, so each period type's rows sum to the log's totals.
    /// </summary>
    [Fact]
    public async Task Windows_are_complete_and_sum_to_the_logs_when_the_daemon_restarts_every_few_minutes_for_a_week()
    {
        await using var local = await LocalCluster.StartAsync("metrics-week");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await local.ExecuteAsync("INSERT INTO tables_to_sync (table_name) VALUES ('public.a'), ('public.b')");
        var aggregator = new MetricsAggregator(dataSource, 1);
        var random = new Random(20261128);
        var clock = new DateTimeOffset(2026, 11, 27, 21, 0, 0, TimeSpan.Zero);
        var end = clock.AddDays(7);
        var runs = 0;
        while (clock < end)
        {
            await aggregator.AggregateAsync(clock, CancellationToken.None); // start
            runs++;
            var stopAt = clock.AddMinutes(random.Next(3, 20));
            var batches = new List<(string Table, long Inserted, long Updated, long Deleted, DateTimeOffset Stamped)>();
            while (clock < stopAt)
            {
                clock = clock.AddSeconds(random.Next(20, 240));
                // Stamped when its local transaction began, up to two minutes before it commits now.
                batches.Add((random.Next(2) == 0 ? "public.a" : "public.b", random.Next(0, 1000), random.Next(0, 100), random.Next(0, 10),
                    clock.AddSeconds(-random.Next(0, 120))));
            }

            await using (var insert = dataSource.CreateCommand("""
                INSERT INTO data_sync_logs (table_name, status, rows_inserted, rows_updated, rows_deleted, sync_time)
                SELECT t, 'SUCCESS', i, u, d, s FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::timestamptz[]) AS b (t, i, u, d, s)
                """))
            {
                insert.Parameters.AddWithValue(batches.Select(b => b.Table).ToArray());
                insert.Parameters.AddWithValue(batches.Select(b => b.Inserted).ToArray());
                insert.Parameters.AddWithValue(batches.Select(b => b.Updated).ToArray());
                insert.Parameters.AddWithValue(batches.Select(b => b.Deleted).ToArray());
                insert.Parameters.AddWithValue(batches.Select(b => b.Stamped).ToArray());
                await insert.ExecuteNonQueryAsync();
            }

            await aggregator.AggregateAsync(clock, CancellationToken.None); // stop
            runs++;
            clock = clock.AddMinutes(random.Next(0, 5)); // down for a while
        }

        Assert.True(runs > 500, $"only {runs} runs");
        Assert.True(await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs") > 1500);
        foreach (var type in new[] { "FREQ", "WEEK", "MONTH" })
        {
            // Each window holds exactly the rows inside it.
            Assert.Equal(0L, await local.QueryScalarAsync<long>($"""
                SELECT count(*) FROM data_sync_metrics m
                CROSS JOIN LATERAL (
                    SELECT coalesce(sum(rows_inserted), 0) AS i, coalesce(sum(rows_updated), 0) AS u, coalesce(sum(rows_deleted), 0) AS d
                    FROM data_sync_logs l
                    WHERE l.table_name = m.table_name AND l.status = 'SUCCESS' AND l.sync_time >= m.period_start AND l.sync_time < m.period_end) l
                WHERE m.period_type = '{type}' AND (m.records_added, m.records_updated, m.records_deleted) IS DISTINCT FROM (l.i, l.u, l.d)
                """));
            // Together they cover every SUCCESS row once.
            Assert.Equal(
                await local.QueryScalarAsync<string>("SELECT sum(rows_inserted) || '/' || sum(rows_updated) || '/' || sum(rows_deleted) FROM data_sync_logs WHERE status = 'SUCCESS'"),
                await local.QueryScalarAsync<string>($"SELECT sum(records_added) || '/' || sum(records_updated) || '/' || sum(records_deleted) FROM data_sync_metrics WHERE period_type = '{type}'"));
        }

        // A week of hourly windows (the last run may fall just past the week's end, opening one more).
        Assert.InRange(await local.QueryScalarAsync<long>("SELECT count(DISTINCT period_start) FROM data_sync_metrics WHERE period_type = 'FREQ'"), 168L, 169L);
        Assert.Equal(2L, await local.QueryScalarAsync<long>("SELECT count(DISTINCT period_start) FROM data_sync_metrics WHERE period_type = 'MONTH'"));
    }
}
