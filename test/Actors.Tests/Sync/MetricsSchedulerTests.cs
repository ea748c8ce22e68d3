using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Hosting;
using DataSync.Actors.Sync;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Actors.Tests.Sync;

/// <summary>The scheduler aggregates at start and at stop, not only every METRIC_FREQ hours: a daemon restarted more often still writes metrics.</summary>
public sealed class MetricsSchedulerTests() : TestKit(DataSyncHocon.Load()
    .WithFallback(Akka.Configuration.ConfigurationFactory.ParseString("akka.actor.provider = local")))
{
    [Fact]
    public async Task Aggregates_when_started_and_again_when_the_system_stops()
    {
        await using var local = await LocalCluster.StartAsync("metrics-scheduler");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await local.ExecuteAsync("""
            INSERT INTO tables_to_sync (table_name) VALUES ('public.a');
            INSERT INTO data_sync_logs (table_name, status, rows_inserted, sync_time) VALUES ('public.a', 'SUCCESS', 3, now());
            """);
        async Task<long> Added() => await local.QueryScalarAsync<long>(
            "SELECT coalesce(sum(records_added), -1)::bigint FROM data_sync_metrics WHERE table_name = 'public.a' AND period_type = 'MONTH'");

        // A period far longer than the test: only the start and the stop can write anything.
        Sys.ActorOf(MetricsScheduler.Props(new MetricsAggregator(dataSource, 24), TimeSpan.FromHours(24)), MetricsScheduler.Name);
        await AwaitAssertAsync(async () => Assert.Equal(3L, await Added()), TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(200));

        await local.ExecuteAsync("INSERT INTO data_sync_logs (table_name, status, rows_inserted, sync_time) VALUES ('public.a', 'SUCCESS', 4, now())");
        await CoordinatedShutdown.Get(Sys).Run(CoordinatedShutdown.ClrExitReason.Instance);
        Assert.Equal(7L, await Added());
    }
}
