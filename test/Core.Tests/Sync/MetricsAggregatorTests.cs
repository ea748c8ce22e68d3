using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

public sealed class MetricsAggregatorTests
{
    [Fact]
    public async Task Sums_success_rows_per_table_for_freq_week_and_month_and_upserts()
    {
        await using var local = await LocalCluster.StartAsync("metrics");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        // Wednesday 2026-11-25 12:00 UTC: its ISO week starts Monday the 23rd, its month on the 1st.
        var now = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
        await local.ExecuteAsync("""
            INSERT INTO tables_to_sync (table_name) VALUES ('public.a'), ('public.b');
            INSERT INTO data_sync_logs (table_name, status, rows_inserted, rows_updated, rows_deleted, sync_time) VALUES
                ('public.a', 'SUCCESS', 10, 1, 0, '2026-11-25 11:00Z'),   -- in FREQ (last 24 h), WEEK, MONTH
                ('public.a', 'SUCCESS', 5, 0, 2, '2026-11-23 08:00Z'),    -- WEEK and MONTH only
                ('public.a', 'SUCCESS', 7, 0, 0, '2026-11-02 08:00Z'),    -- MONTH only
                ('public.a', 'FAILED', 99, 99, 99, '2026-11-25 11:30Z'),  -- failures are not counted
                ('public.a', 'SUCCESS', 100, 0, 0, '2026-10-31 23:00Z');  -- last month
            """);

        var aggregator = new MetricsAggregator(dataSource, 24);
        Assert.Equal(6, await aggregator.AggregateAsync(now, CancellationToken.None));
        await local.ExecuteAsync("INSERT INTO data_sync_logs (table_name, status, rows_inserted, sync_time) VALUES ('public.a', 'SUCCESS', 1, '2026-11-25 11:59Z')");
        await aggregator.AggregateAsync(now, CancellationToken.None);

        async Task<string> Row(string table, string type) => await local.QueryScalarAsync<string>(
            $"SELECT period_start AT TIME ZONE 'UTC' || ' ' || records_added || '/' || records_updated || '/' || records_deleted FROM data_sync_metrics WHERE table_name = '{table}' AND period_type = '{type}'");
        Assert.Equal("2026-11-24 12:00:00 11/1/0", await Row("public.a", "FREQ"));
        Assert.Equal("2026-11-23 00:00:00 16/1/2", await Row("public.a", "WEEK"));
        Assert.Equal("2026-11-01 00:00:00 23/1/2", await Row("public.a", "MONTH"));
        Assert.Equal("2026-11-01 00:00:00 0/0/0", await Row("public.b", "MONTH"));
        Assert.Equal(6L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_metrics"));
    }
}
