using System.Diagnostics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Control;
using DataSync.Actors.Pipeline;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>
/// The supervisor with stand-in children and a short backoff: a child that throws comes back after a pause that
/// doubles with each failure (never at once, never before the minimum), the other children are left alone, and
/// table-list changes reach the coordinator with their sender.
/// </summary>
public sealed class SyncSupervisorSpecs() : TestKit("akka.actor.provider = local\nakka.loglevel = WARNING")
{
    private static readonly SupervisionBackoff Short = new(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5), 0.2);

    [Fact]
    public void A_watcher_that_throws_is_started_again_after_a_growing_pause_and_the_others_are_left_alone()
    {
        var starts = CreateTestProbe();
        var others = CreateTestProbe();
        var children = new SyncChildren(
            () => Props.Create(() => new Reporter(others.Ref, "bootstrapper", false)),
            (_, _) => Props.Create(() => new Reporter(others.Ref, "coordinator", false)),
            _ => Props.Create(() => new Reporter(starts.Ref, "watcher", true)));

        Sys.ActorOf(SyncSupervisor.Props(children, Short), "sync-backoff");

        // Each start is timed by the child itself, so a busy test thread does not stretch the pauses measured.
        var started = new List<TimeSpan>();
        for (var i = 0; i < 4; i++) started.Add(Stopwatch.GetElapsedTime(0, starts.ExpectMsg<Started>(TimeSpan.FromSeconds(10)).Timestamp));

        // Akka's backoff: min(max, min * 2^n) lengthened by up to RandomFactor; n counts the failures before this one.
        for (var n = 0; n < 3; n++)
        {
            var pause = started[n + 1] - started[n];
            var floor = TimeSpan.FromMilliseconds(300 * Math.Pow(2, n));
            Assert.True(pause >= floor, $"restart {n + 1} came after {pause.TotalMilliseconds:F0} ms, before the backoff's {floor.TotalMilliseconds} ms");
            Assert.True(pause <= floor * 1.2 + TimeSpan.FromMilliseconds(1000), $"restart {n + 1} came after {pause.TotalMilliseconds:F0} ms, far past {floor.TotalMilliseconds} ms");
        }

        // The bootstrapper and the coordinator started once each and were never restarted with the watcher.
        var once = new[] { others.ExpectMsg<string>(), others.ExpectMsg<string>() };
        Assert.Equal(["bootstrapper", "coordinator"], once.Order());
        others.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public void A_table_list_change_reaches_the_coordinator_with_its_sender()
    {
        var coordinator = CreateTestProbe();
        var children = new SyncChildren(
            () => Props.Create(() => new Reporter(ActorRefs.Nobody, "bootstrapper", false)),
            (_, _) => Props.Create(() => new Forwarder(coordinator.Ref)),
            _ => Props.Create(() => new Reporter(ActorRefs.Nobody, "watcher", false)));
        var sync = Sys.ActorOf(SyncSupervisor.Props(children, Short), "sync-forward");

        sync.Tell(TableListChanged.Instance, TestActor);

        coordinator.ExpectMsg(TableListChanged.Instance);
        Assert.Equal(TestActor, coordinator.LastSender);
    }

    [Fact]
    public void The_daemon_backoff_is_jittered_and_grows_from_a_second_to_two_minutes() =>
        Assert.Equal(new SupervisionBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2), 0.2), SupervisionBackoff.Default);

    private sealed record Started(long Timestamp);

    /// <summary>
    /// Says its name to a probe when it starts (a failing one: when, instead); a failing one then throws at once, as a
    /// watcher whose archive is unreadable does.
    /// </summary>
    private sealed class Reporter : ReceiveActor
    {
        public Reporter(IActorRef probe, string name, bool fails)
        {
            probe.Tell(fails ? new Started(Stopwatch.GetTimestamp()) : name);
            Receive<string>(_ => throw new InvalidOperationException($"{name} failed"));
            if (fails) Self.Tell("fail");
        }
    }

    /// <summary>Passes what it gets on, keeping the sender, as a coordinator that records what reached it.</summary>
    private sealed class Forwarder : ReceiveActor
    {
        public Forwarder(IActorRef probe) => ReceiveAny(message => probe.Forward(message));
    }
}
