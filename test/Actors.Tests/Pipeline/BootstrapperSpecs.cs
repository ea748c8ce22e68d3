using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Pipeline;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>
/// The bootstrapper's pacing with a stand-in attempt: a wait is answered with its RetryAt, and requests that come
/// sooner (a coordinator asking on every pass) are held and run by the bootstrapper's own timer at that time:
/// one attempt, not one per request, and never before the pause is over.
/// </summary>
public sealed class BootstrapperSpecs() : TestKit("akka.actor.provider = local\nakka.loglevel = WARNING")
{
    [Fact]
    public void A_wait_is_retried_by_a_timer_after_its_pause_never_at_once_whatever_the_requester_does()
    {
        var attempts = new ConcurrentQueue<DateTimeOffset>();
        DateTimeOffset retryAt = default;
        var bootstrapper = Sys.ActorOf(Bootstrapper.Props(_ => (tables, _) =>
        {
            var now = DateTimeOffset.UtcNow;
            attempts.Enqueue(now);
            if (attempts.Count == 1)
            {
                // Long enough that the three requests below are sent before it on a loaded machine (a CI run sent them
                // after a 1.5 s pause, and the held requests ran as two attempts).
                retryAt = now + TimeSpan.FromMilliseconds(3000);
                return Task.FromResult(new BootstrapFinished(tables, false, "WAL up to the backup's end is not archived yet", false, true, retryAt));
            }

            return Task.FromResult(new BootstrapFinished(tables, true, null));
        }));

        bootstrapper.Tell(new BootstrapTables(["public.a"]), TestActor);
        var waiting = ExpectMsg<BootstrapFinished>();
        Assert.False(waiting.Copied);
        Assert.Equal("WAL up to the backup's end is not archived yet", waiting.Problem);
        Assert.Equal(retryAt, waiting.RetryAt);

        // Asked again at once, three times, as a hot loop would: nothing runs and nothing answers before RetryAt
        // (checked by the times things happened, not by how long this thread waited, which a busy machine stretches).
        for (var i = 0; i < 3; i++) bootstrapper.Tell(new BootstrapTables(["public.a", "public.b"]), TestActor);
        Assert.True(DateTimeOffset.UtcNow < retryAt, "the machine held this thread past RetryAt before the requests were sent");

        // The bootstrapper's own timer runs the held requests once the pause is over, as one attempt with one answer.
        var copied = ExpectMsg<BootstrapFinished>(TimeSpan.FromSeconds(5));
        Assert.True(DateTimeOffset.UtcNow >= retryAt, "answered before RetryAt");
        Assert.True(copied.Copied);
        Assert.Equal(["public.a", "public.b"], copied.Tables);
        Assert.Equal(2, attempts.Count);
        Assert.True(attempts.Last() >= retryAt, $"the second attempt started at {attempts.Last():O}, before {retryAt:O}");
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Equal(2, attempts.Count);
    }

    [Fact]
    public async Task Requests_during_an_attempt_wait_for_it_and_then_share_one_attempt()
    {
        var attempts = new ConcurrentQueue<IReadOnlyList<string>>();
        var first = new TaskCompletionSource<BootstrapFinished>(TaskCreationOptions.RunContinuationsAsynchronously);
        var bootstrapper = Sys.ActorOf(Bootstrapper.Props(_ => (tables, _) =>
        {
            attempts.Enqueue(tables);
            return attempts.Count == 1 ? first.Task : Task.FromResult(new BootstrapFinished(tables, true, null));
        }));
        var other = CreateTestProbe();

        bootstrapper.Tell(new BootstrapTables(["public.a"]), TestActor);
        await AwaitConditionAsync(() => Task.FromResult(attempts.Count == 1));
        bootstrapper.Tell(new BootstrapTables(["public.b"]), other.Ref);
        bootstrapper.Tell(new BootstrapTables(["public.c"]), TestActor);
        ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.Single(attempts);

        first.SetResult(new BootstrapFinished(["public.a"], true, null));
        Assert.Equal(["public.a"], ExpectMsg<BootstrapFinished>().Tables);
        // The copy ended without a pause: the gathered requests run at once, together, and each requester hears once.
        Assert.Equal(["public.b", "public.c"], other.ExpectMsg<BootstrapFinished>().Tables);
        Assert.Equal(["public.b", "public.c"], ExpectMsg<BootstrapFinished>().Tables);
        ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(2, attempts.Count);
    }

    [Fact]
    public async Task The_daemon_s_stop_cancels_a_running_attempt_and_waits_until_it_has_cleaned_up()
    {
        var running = new RunningBootstraps();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cleanedUp = false;
        var bootstrapper = Sys.ActorOf(Bootstrapper.Props(_ => async (tables, stopping) =>
        {
            started.SetResult();
            try
            {
                // A copy that would run for an hour.
                await Task.Delay(TimeSpan.FromHours(1), stopping);
                return new BootstrapFinished(tables, true, null);
            }
            finally
            {
                // Stopping the temporary restore takes a while too; the stop must wait for it.
                await Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None);
                cleanedUp = true;
            }
        }, running));

        bootstrapper.Tell(new BootstrapTables(["public.a"]), TestActor);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Sys.Stop(bootstrapper);

        var stop = running.DisposeAsync().AsTask();
        Assert.True(await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(20))) == stop, "the stop did not end the attempt");
        Assert.True(cleanedUp, "the stop returned before the attempt had cleaned up");
    }

    [Fact]
    public void An_attempt_that_throws_is_answered_as_failed_with_a_pause()
    {
        var bootstrapper = Sys.ActorOf(Bootstrapper.Props(_ => (_, _) => Task.FromException<BootstrapFinished>(new InvalidOperationException("restore refused"))));

        bootstrapper.Tell(new BootstrapTables(["public.a"]), TestActor);

        var failed = ExpectMsg<BootstrapFinished>();
        Assert.Equal((false, true, "restore refused"), (failed.Copied, failed.Failed, failed.Problem));
        Assert.InRange(failed.RetryAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(25), BootstrapPass.RetryAfterError);
    }
}

/// <summary>The queue's rules without Akka.</summary>
public sealed class BootstrapQueueTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 1, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Nothing_starts_before_the_pause_ends_and_the_wake_time_is_its_end()
    {
        var queue = new BootstrapQueue<string>();
        queue.Add(["public.a"], "coordinator");
        Assert.NotNull(queue.TryStart(Now));
        queue.Ended(Now.AddSeconds(10));

        queue.Add(["public.a"], "coordinator");
        Assert.Null(queue.TryStart(Now.AddSeconds(9.999)));
        Assert.Equal(Now.AddSeconds(10), queue.WakeAt);
        var started = queue.TryStart(Now.AddSeconds(10));
        Assert.Equal(["public.a"], started!.Value.Tables);
        Assert.Equal(["coordinator"], started.Value.Requesters);
        Assert.Null(queue.WakeAt);
    }

    [Fact]
    public void One_attempt_at_a_time_and_gathered_requests_are_deduplicated()
    {
        var queue = new BootstrapQueue<string>();
        queue.Add(["public.a"], "x");
        Assert.NotNull(queue.TryStart(Now));
        queue.Add(["public.b", "public.a"], "x");
        queue.Add(["public.b"], "y");
        Assert.True(queue.Running);
        Assert.Null(queue.TryStart(Now));
        Assert.Null(queue.WakeAt);

        queue.Ended(null);
        var next = queue.TryStart(Now);
        Assert.Equal(["public.b", "public.a"], next!.Value.Tables);
        Assert.Equal(["x", "y"], next.Value.Requesters);
    }

    [Fact]
    public void Without_requests_nothing_starts_and_no_timer_is_asked_for()
    {
        var queue = new BootstrapQueue<string>();
        queue.Ended(Now.AddMinutes(1));
        Assert.Null(queue.TryStart(Now.AddHours(1)));
        Assert.Null(queue.WakeAt);
    }
}
