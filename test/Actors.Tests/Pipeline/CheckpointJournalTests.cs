using Akka.Actor;
using Akka.Configuration;
using DataSync.Actors.Hosting;
using DataSync.Actors.Pipeline;
using DataSync.Messages.Journal;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>The checkpoint journal on a real local PostgreSQL: its own tables, our serializer, recovery in a new actor system, trimming.</summary>
public sealed class CheckpointJournalTests
{
    [Fact]
    public async Task Journals_checkpoints_in_its_own_tables_and_recovers_the_last_one_in_a_new_actor_system()
    {
        await using var local = await LocalCluster.StartAsync("journal");
        var config = JournalHocon.Settings
            .WithFallback(DataSyncHocon.Load())
            .WithFallback(ConfigurationFactory.ParseString("akka.actor.provider = local"));
        // The password reaches the journal only through the setup: no configuration text Akka could print holds it.
        var password = new NpgsqlConnectionStringBuilder(local.ConnectionString).Password;
        Assert.False(string.IsNullOrEmpty(password));
        Assert.DoesNotContain(password, config.ToString(includeFallback: true), StringComparison.Ordinal);
        var setup = BootstrapSetup.Create().WithConfig(config).And(JournalHocon.Connection(local.ConnectionString));

        var system = ActorSystem.Create("journal-first", setup);
        try
        {
            var journal = system.ActorOf(CheckpointJournal.Props("public.orders"));
            for (var i = 1; i <= 120; i++)
                journal.Tell(new JournalCheckpoint(new TableCheckpointJournaled("public.orders", $"0/{i:X}000", $"0000000100000000000000{i % 100:D2}", i)), ActorRefs.NoSender);
            var last = await journal.Ask<JournaledCheckpoint>(JournaledCheckpointQuery.Instance, TimeSpan.FromSeconds(30));
            Assert.Equal("0/78000", last.Last?.CheckpointLsn);
        }
        finally
        {
            await system.Terminate();
        }

        var again = ActorSystem.Create("journal-second", setup);
        try
        {
            var recovered = await again.ActorOf(CheckpointJournal.Props("public.orders"))
                .Ask<JournaledCheckpoint>(JournaledCheckpointQuery.Instance, TimeSpan.FromSeconds(30));
            Assert.Equal(new TableCheckpointJournaled("public.orders", "0/78000", "000000010000000000000020", 120), recovered.Last);

            var other = await again.ActorOf(CheckpointJournal.Props("public.customers"))
                .Ask<JournaledCheckpoint>(JournaledCheckpointQuery.Instance, TimeSpan.FromSeconds(30));
            Assert.Null(other.Last);
        }
        finally
        {
            await again.Terminate();
        }

        await using var connection = new NpgsqlConnection(local.ConnectionString);
        await connection.OpenAsync();
        await using var rows = new NpgsqlCommand(
            "SELECT count(*), min(identifier), max(manifest) FROM datasync_journal WHERE persistence_id = 'datasync-table-checkpoint/public.orders'", connection);
        await using var reader = await rows.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        // Older entries are trimmed every 50, so far fewer than 120 rows stay; each is written by our serializer under its manifest.
        Assert.InRange(reader.GetInt64(0), 1, 30);
        Assert.Equal(4711, reader.GetInt32(1));
        Assert.Equal("journal.checkpoint", reader.GetString(2));
    }
}
