using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Persistence;
using Akka.Persistence.TestKit;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Hosting;
using DataSync.Actors.Pipeline;
using DataSync.Core.Configuration;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.Messages.Journal;
using DataSync.TestRig;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>
/// The checkpoint journal over Akka.Persistence.TestKit's journal, with failures injected: a failed write or a
/// failed recovery is logged, the journal comes back after its backoff and journals what follows, and its parent
/// (the table's applier) never hears of it. The rows' checkpoint lives in the database, so nothing is lost there.
/// </summary>
public sealed class CheckpointJournalFailureSpecs() : TestKit(ConfigurationFactory.ParseString("""
        akka.actor.provider = local
        akka.loglevel = INFO
        akka.persistence.journal.plugin = "akka.persistence.journal.test"
        akka.persistence.journal.test.class = "Akka.Persistence.TestKit.TestJournal, Akka.Persistence.TestKit"
        akka.persistence.journal.test.plugin-dispatcher = "akka.actor.default-dispatcher"
        akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.test"
        akka.persistence.snapshot-store.test.class = "Akka.Persistence.TestKit.TestSnapshotStore, Akka.Persistence.TestKit"
        akka.persistence.snapshot-store.test.plugin-dispatcher = "akka.actor.default-dispatcher"
        """).WithFallback(DataSyncHocon.Load()))
{
    private static readonly SupervisionBackoff Short = new(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(2), 0.2);

    private ITestJournal Journal => TestJournal.FromRef(Persistence.Instance.Apply(Sys).JournalFor(null));

    [Fact]
    public async Task A_failed_write_is_logged_the_journal_comes_back_after_its_pause_and_the_applier_never_hears_of_it()
    {
        var failures = CreateTestProbe();
        var applier = Sys.ActorOf(Props.Create(() => new ApplierStandIn("public.orders", failures.Ref)), "applier");
        for (var i = 1; i <= 3; i++) applier.Tell(Checkpoint(i));
        Assert.Equal("0/3000", (await LastAsync(applier))?.CheckpointLsn);

        await Journal.OnWrite.Fail();
        await EventFilter.Warning(contains: "the checkpoint journal of public.orders could not write 0/4000")
            .ExpectOneAsync(() =>
            {
                applier.Tell(Checkpoint(4));
                return Task.CompletedTask;
            });
        await Journal.OnWrite.Pass();

        // The applier answers meanwhile, and no failure reached it.
        Assert.Equal("pong", await applier.Ask<string>("ping", TimeSpan.FromSeconds(3)));

        // Back after the pause, recovered to the last entry written (4 never was: the database holds it), and journaling again.
        await AwaitAssertAsync(async () => Assert.Equal("0/3000", (await LastAsync(applier))?.CheckpointLsn), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        applier.Tell(Checkpoint(5));
        Assert.Equal(new TableCheckpointJournaled("public.orders", "0/5000", "000000010000000000000005", 5), await LastAsync(applier));
        failures.ExpectNoMsg(TimeSpan.FromMilliseconds(200));

        // A new incarnation (a daemon restart) recovers the last one.
        var watcher = CreateTestProbe();
        watcher.Watch(applier);
        Sys.Stop(applier);
        watcher.ExpectTerminated(applier);
        var again = Sys.ActorOf(Props.Create(() => new ApplierStandIn("public.orders", failures.Ref)), "applier-again");
        Assert.Equal("0/5000", (await LastAsync(again))?.CheckpointLsn);
    }

    [Fact]
    public async Task A_failed_recovery_is_logged_and_the_journal_starts_again_after_its_pause()
    {
        var failures = CreateTestProbe();
        var first = Sys.ActorOf(Props.Create(() => new ApplierStandIn("public.items", failures.Ref)), "items");
        first.Tell(Checkpoint(7, "public.items"));
        Assert.Equal("0/7000", (await LastAsync(first))?.CheckpointLsn);
        Sys.Stop(first);

        await Journal.OnRecovery.Fail();
        // At least once: until the recovery passes, the journal tries again after each short pause, so a slow machine may
        // see a second failure before the test lets it pass.
        var warnings = CreateTestProbe();
        Sys.EventStream.Subscribe(warnings.Ref, typeof(Warning));
        var applier = Sys.ActorOf(Props.Create(() => new ApplierStandIn("public.items", failures.Ref)), "items-again");
        await warnings.FishForMessageAsync<Warning>(w => w.Message.ToString()!.Contains("the checkpoint journal of public.items could not be read back",
            StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        await Journal.OnRecovery.Pass();

        await AwaitAssertAsync(async () => Assert.Equal("0/7000", (await LastAsync(applier))?.CheckpointLsn), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));
        failures.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_real_applier_commits_its_batches_to_the_database_while_its_journal_fails_and_journals_again_after()
    {
        await using var local = await LocalCluster.StartAsync("journal-applier");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        var applier = await RealApplierAsync(local, dataSource, "orders", "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 10)");
        applier.Tell(StartJournal.Instance);

        await Journal.OnWrite.Fail();
        TableBatchOutcome? outcome = null;
        await EventFilter.Warning(contains: "the checkpoint journal of public.orders could not write 0/2000").ExpectOneAsync(async () =>
            outcome = await TruncateBatchAsync(applier, new Lsn(0x1000), new Lsn(0x2000)));
        await Journal.OnWrite.Pass();

        // The batch committed with its checkpoint whatever the journal did: the database has it all.
        Assert.Equal(new Lsn(0x2000), Assert.IsType<TableBatchOutcome.Committed>(outcome).Checkpoint);
        Assert.Equal("0/2000 0", await local.QueryScalarAsync<string>(
            "SELECT s.checkpoint_lsn::text || ' ' || (SELECT count(*) FROM orders) FROM datasync_table_state s WHERE s.table_name = 'public.orders'"));

        // The applier goes on; once its journal is back (after its pause) the next checkpoint is journaled again.
        await local.ExecuteAsync("INSERT INTO orders VALUES (11)");
        await Task.Delay(CheckpointJournal.RestartBackoff.Min * (1 + CheckpointJournal.RestartBackoff.RandomFactor) + TimeSpan.FromMilliseconds(500));
        Assert.Equal(new Lsn(0x3000), Assert.IsType<TableBatchOutcome.Committed>(await TruncateBatchAsync(applier, new Lsn(0x2000), new Lsn(0x3000))).Checkpoint);
        Assert.Equal("0/3000 0", await local.QueryScalarAsync<string>(
            "SELECT s.checkpoint_lsn::text || ' ' || (SELECT count(*) FROM orders) FROM datasync_table_state s WHERE s.table_name = 'public.orders'"));
        var reader = 0;
        await AwaitAssertAsync(async () =>
        {
            // A fresh journal of the same table recovers what was written: the second checkpoint, the first having failed.
            var journal = Sys.ActorOf(CheckpointJournal.Unsupervised("public.orders"), $"reader-{++reader}");
            Assert.Equal("0/3000", (await LastAsync(journal))?.CheckpointLsn);
            Sys.Stop(journal);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task A_real_applier_journals_the_newest_checkpoint_committed_before_its_journal_was_started()
    {
        await using var local = await LocalCluster.StartAsync("journal-late");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        var applier = await RealApplierAsync(local, dataSource, "lines", "CREATE TABLE lines (id int PRIMARY KEY)");

        // Two batches commit while the journal waits for the stream's first quiet moment: nothing is journaled yet.
        await TruncateBatchAsync(applier, new Lsn(0x1000), new Lsn(0x2000));
        await TruncateBatchAsync(applier, new Lsn(0x2000), new Lsn(0x3000));
        var early = Sys.ActorOf(CheckpointJournal.Unsupervised("public.lines"), "early-reader");
        Assert.Null(await LastAsync(early));
        Sys.Stop(early);

        // Started, it journals the newest of them.
        applier.Tell(StartJournal.Instance);
        var reader = 0;
        await AwaitAssertAsync(async () =>
        {
            var journal = Sys.ActorOf(CheckpointJournal.Unsupervised("public.lines"), $"late-reader-{++reader}");
            Assert.Equal("0/3000", (await LastAsync(journal))?.CheckpointLsn);
            Sys.Stop(journal);
        }, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
    }

    /// <summary>One batch of the applier's protocol that truncates the table at <paramref name="commit"/>.</summary>
    private static async Task<TableBatchOutcome> TruncateBatchAsync(IActorRef applier, Lsn checkpoint, Lsn commit)
    {
        Assert.True((await applier.Ask<ApplierAck>(new BeginBatch(checkpoint, 1, 1), TimeSpan.FromSeconds(20))).Applying);
        Assert.True((await applier.Ask<ApplierAck>(new TruncateTable(commit, 2), TimeSpan.FromSeconds(20))).Applying);
        return (await applier.Ask<ApplierAck>(new CommitBatch(commit, 3), TimeSpan.FromSeconds(20))).Outcome!;
    }

    private static JournalCheckpoint Checkpoint(int i, string table = "public.orders") =>
        new(new TableCheckpointJournaled(table, $"0/{i:X}000", $"0000000100000000000000{i:D2}", i));

    private static async Task<TableCheckpointJournaled?> LastAsync(IActorRef applier) =>
        (await applier.Ask<JournaledCheckpoint>(JournaledCheckpointQuery.Instance, TimeSpan.FromSeconds(3))).Last;

    /// <summary>
    /// A real applier of the table public.<paramref name="table"/>, made by <paramref name="ddl"/> in a migrated local database,
    /// listed and syncing from 0/1000; its journal is not started.
    /// </summary>
    private async Task<IActorRef> RealApplierAsync(LocalCluster local, NpgsqlDataSource dataSource, string table, string ddl)
    {
        await new SchemaMigrator(dataSource).MigrateAsync();
        await local.ExecuteAsync($"""
            {ddl};
            INSERT INTO tables_to_sync (table_name) VALUES ('public.{table}');
            INSERT INTO datasync_table_state (table_name, state, checkpoint_lsn) VALUES ('public.{table}', 'syncing', '0/1000');
            """);
        var settings = new DataSyncSettings
        {
            PgPassword = "x", PgDbName = "unused", ArchiveDir = "/a", BaseBackupDir = "/b", StateDir = Path.GetTempPath(), SshKeyFile = "/k", SshKnownHosts = "/h",
        };
        return Sys.ActorOf(TableApplier.Props(new TableBatch(dataSource, settings, new TableName("public", table), 16 * 1024 * 1024)), $"applier-{table}");
    }

    /// <summary>Holds the journal as a table's applier does, answers pings, and reports any failure that reaches it.</summary>
    private sealed class ApplierStandIn : ReceiveActor
    {
        private readonly IActorRef _failures;

        public ApplierStandIn(string table, IActorRef failures)
        {
            _failures = failures;
            var journal = Context.ActorOf(CheckpointJournal.Props(table, Short), "journal");
            Receive<string>(_ => Sender.Tell("pong"));
            ReceiveAny(message => journal.Forward(message));
        }

        protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
        {
            _failures.Tell(e.Message);
            return Directive.Restart;
        });
    }
}
