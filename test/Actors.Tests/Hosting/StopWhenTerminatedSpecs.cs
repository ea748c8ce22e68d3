using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Hosting;

namespace DataSync.Actors.Tests.Hosting;

/// <summary>The daemon ends when the sync pipeline's top actor is gone, and only then.</summary>
public sealed class StopWhenTerminatedSpecs() : TestKit("akka.actor.provider = local\nakka.loglevel = WARNING")
{
    [Fact]
    public async Task Asks_for_the_stop_once_when_the_watched_actor_stops_and_not_before()
    {
        var watched = CreateTestProbe();
        var stops = 0;
        Sys.ActorOf(StopWhenTerminated.Props(watched.Ref, () => Interlocked.Increment(ref stops)));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, Volatile.Read(ref stops));

        await EventFilter.Error(contains: "stopped; the daemon stops with it").ExpectOneAsync(() =>
        {
            Sys.Stop(watched.Ref);
            return Task.CompletedTask;
        });

        await AwaitConditionAsync(() => Task.FromResult(Volatile.Read(ref stops) == 1));
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(1, Volatile.Read(ref stops));
    }
}
