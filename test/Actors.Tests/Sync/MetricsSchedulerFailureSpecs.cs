using Akka.TestKit.Xunit2;
using DataSync.Actors.Sync;
using DataSync.Core.Sync;
using Npgsql;

namespace DataSync.Actors.Tests.Sync;

/// <summary>A failed aggregation is a warning, retried at the next period; the scheduler lives on.</summary>
public sealed class MetricsSchedulerFailureSpecs() : TestKit("akka.actor.provider = local\nakka.loglevel = INFO")
{
    [Fact]
    public async Task A_run_that_fails_is_logged_and_tried_again_each_period_not_sooner()
    {
        // Nothing listens on port 1: every run fails at once with a connection error.
        await using var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=x;Password=y;Database=z;Timeout=1");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await EventFilter.Warning(contains: "metrics aggregation failed, retried in").ExpectAsync(3, () =>
        {
            Sys.ActorOf(MetricsScheduler.Props(new MetricsAggregator(unreachable, 1), TimeSpan.FromMilliseconds(600)));
            return Task.CompletedTask;
        }, TimeSpan.FromSeconds(10));
        // At start, then after one period and after two.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(1200), $"three runs within {clock.ElapsedMilliseconds} ms");
    }
}
