using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using DataSync.Actors.Hosting;
using DataSync.Actors.Pipeline;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>
/// A daemon stopped while a checkpoint journal sets up (the first one makes Akka.Persistence.Sql create its tables) waits
/// for it instead of cutting it short, which the plugin reported as an error with a stack trace; once a stop has begun,
/// no journal starts.
/// </summary>
public sealed class JournalStartsTests
{
    [Fact]
    public async Task A_stop_right_after_the_first_journal_began_waits_for_its_recovery_and_logs_no_error()
    {
        await using var local = await LocalCluster.StartAsync("journal-stop");
        await local.ExecuteAsync("CREATE TABLE items (id bigint PRIMARY KEY, v text)");
        var (prepared, settings) = await RegisteredTable.PrepareAsync(local, "items");
        await using var dataSource = prepared;
        var config = JournalHocon.Settings
            .WithFallback(DataSyncHocon.Load())
            .WithFallback(ConfigurationFactory.ParseString("akka.actor.provider = local"));
        var system = ActorSystem.Create("journal-stop", BootstrapSetup.Create().WithConfig(config).And(JournalHocon.Connection(local.ConnectionString)));
        var errors = new List<string>();
        system.EventStream.Subscribe(system.ActorOf(Props.Create(() => new ErrorCollector(errors))), typeof(Error));
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batch = new TableBatch(dataSource, settings, new TableName("public", "items"), 16 * 1024 * 1024);
        system.ActorOf(Props.Create(() => new ApplierParent(TableApplier.Props(batch), ready)));

        // The journal plugin's set-up (connect, create its tables, recover) is under way when the stop begins.
        var starts = JournalStarts.Get(system);
        var began = DateTime.UtcNow;
        while (starts.Starting == 0 && !ready.Task.IsCompleted)
        {
            Assert.True(DateTime.UtcNow - began < TimeSpan.FromSeconds(30), "the applier never began its journal");
            await Task.Delay(1);
        }

        Assert.False(ready.Task.IsCompleted, "the journal recovered before the stop could begin: the test proves nothing");
        await CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance);
        await system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.True(ready.Task.IsCompleted, "the actor system ended before the journal that began had recovered");
        lock (errors) Assert.True(errors.Count == 0, "errors logged during the stop:\n" + string.Join('\n', errors));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM pg_tables WHERE tablename = 'datasync_journal'"));
    }

    [Fact]
    public async Task Once_the_stop_began_no_journal_begins_and_the_stop_waits_only_for_those_already_starting()
    {
        var system = ActorSystem.Create("journal-gate", "akka.actor.provider = local");
        try
        {
            var starts = JournalStarts.Get(system);
            Assert.True(starts.TryBegin());
            var settled = starts.SettledAsync(TimeSpan.FromSeconds(30));
            await Task.Delay(200);
            Assert.False(settled.IsCompleted, "the stop did not wait for a journal that was starting");
            // Settling closes the gate: nothing begins while the stop waits.
            Assert.False(starts.TryBegin());
            starts.Ended();
            await settled.WaitAsync(TimeSpan.FromSeconds(5));
        }
        finally
        {
            await system.Terminate();
        }

        var stopping = ActorSystem.Create("journal-gate-stopping", "akka.actor.provider = local");
        var gate = JournalStarts.Get(stopping);
        await CoordinatedShutdown.Get(stopping).Run(CoordinatedShutdown.ClrExitReason.Instance);
        Assert.False(gate.TryBegin());
        // With nothing starting, the stop does not wait.
        await gate.SettledAsync(TimeSpan.FromSeconds(30)).WaitAsync(TimeSpan.FromSeconds(5));
    }

    /// <summary>The applier's parent: starts its journal at once and completes <c>ready</c> when the applier says the journal recovered.</summary>
    private sealed class ApplierParent : ReceiveActor
    {
        public ApplierParent(Props applier, TaskCompletionSource ready)
        {
            Context.ActorOf(applier, "applier").Tell(StartJournal.Instance);
            Receive<JournalReady>(_ => ready.TrySetResult());
        }
    }

    private sealed class ErrorCollector : ReceiveActor
    {
        public ErrorCollector(List<string> errors) => Receive<Error>(e =>
        {
            lock (errors) errors.Add($"{e.LogSource}: {e.Message} {e.Cause}");
        });
    }
}
