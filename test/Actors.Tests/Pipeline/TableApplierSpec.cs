using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Pipeline;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>
/// A table applier on a real local database: every command is answered with its sequence number to its sender; a
/// commit carries the outcome and moves the checkpoint; a pause pauses the table alone; a failure is answered, not
/// swallowed, and the restarted applier takes the next batch.
/// </summary>
public sealed class TableApplierSpec() : TestKit("akka.actor.provider = local")
{
    private static readonly TableName Items = new("public", "items");

    [Fact]
    public async Task Answers_each_command_commits_pauses_and_survives_a_failed_command()
    {
        await using var local = await LocalCluster.StartAsync("applier-spec");
        await local.ExecuteAsync("CREATE TABLE items (id bigint PRIMARY KEY, v text)");
        var (prepared, settings) = await RegisteredTable.PrepareAsync(local, "items");
        await using var dataSource = prepared;
        await local.ExecuteAsync("UPDATE datasync_table_state SET state = 'syncing', checkpoint_lsn = '0/1000' WHERE table_name = 'public.items'");
        const uint SegmentSize = 16 * 1024 * 1024;
        var applier = Sys.ActorOf(TableApplier.Props(new TableBatch(dataSource, settings, Items, SegmentSize)));

        applier.Tell(new BeginBatch(new Lsn(0x1000), 1, 1));
        Assert.Equal(new ApplierAck(Items, 1, true), ExpectMsg<ApplierAck>(TimeSpan.FromSeconds(20)));
        applier.Tell(new CommitBatch(new Lsn(0x2000), 2));
        var committed = ExpectMsg<ApplierAck>(TimeSpan.FromSeconds(20));
        Assert.Equal(2, committed.Sequence);
        // Nothing of the table in the commits routed: its checkpoint still moves to the last one routed.
        Assert.Equal(new Lsn(0x2000), Assert.IsType<TableBatchOutcome.Committed>(committed.Outcome).Checkpoint);
        Assert.Equal("0/2000", await local.QueryScalarAsync<string>("SELECT checkpoint_lsn::text FROM datasync_table_state WHERE table_name = 'public.items'"));

        // A command out of order (changes without an open batch) fails: the failure is the answer, and the applier restarts.
        applier.Tell(new TruncateTable(new Lsn(0x3000), 3));
        var failed = ExpectMsg<ApplierAck>(TimeSpan.FromSeconds(20));
        Assert.Equal(3, failed.Sequence);
        Assert.NotNull(failed.Failure);
        Watch(applier);
        applier.Tell(new BeginBatch(new Lsn(0x2000), 1, 4));
        Assert.Equal(new ApplierAck(Items, 4, true), ExpectMsg<ApplierAck>(TimeSpan.FromSeconds(20)));

        applier.Tell(new PauseTable(new Lsn(0x2800), "production changed the table's definition", 5));
        Assert.Equal(new ApplierAck(Items, 5, false), ExpectMsg<ApplierAck>(TimeSpan.FromSeconds(20)));
        applier.Tell(new CommitBatch(new Lsn(0x3000), 6));
        Assert.IsType<TableBatchOutcome.Paused>(ExpectMsg<ApplierAck>(TimeSpan.FromSeconds(20)).Outcome);
        Assert.Equal("paused 0/2000", await local.QueryScalarAsync<string>("SELECT state || ' ' || checkpoint_lsn::text FROM datasync_table_state WHERE table_name = 'public.items'"));

        // Stopping does not wait for the connection to close: the stop completes while the dispose runs beside it.
        Sys.Stop(applier);
        ExpectTerminated(applier, TimeSpan.FromSeconds(5));
    }
}
