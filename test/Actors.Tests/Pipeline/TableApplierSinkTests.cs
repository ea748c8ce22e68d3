using Akka.TestKit.Xunit2;
using DataSync.Actors.Pipeline;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>How the stream's sink cuts a table's changes into chunks for its applier and waits for acknowledgements, not timeouts.</summary>
public sealed class TableApplierSinkTests() : TestKit("akka.actor.provider = local")
{
    private static readonly TableDescriptor Table = new("public", "t", 1, 1, 1663, 5, 0, 0, 'd', [1], []);
    private static readonly TableName Name = new("public", "t");

    [Fact]
    public async Task A_chunk_ends_at_its_row_count_or_its_bytes_whichever_comes_first()
    {
        var applier = CreateTestProbe();
        var coordinator = CreateTestProbe();
        // A change without row images counts 160 bytes: 1000 bytes end a chunk at the 7th change, before 10 changes do.
        var sink = new TableApplierSink(Name, applier.Ref, coordinator.Ref, chunkSize: 10, chunkBytes: 1000);

        var begin = sink.BeginAsync(Lsn.Invalid, 1, CancellationToken.None);
        var opened = applier.ExpectMsg<BeginBatch>();
        Assert.Equal(coordinator.Ref, applier.LastSender);
        sink.Acknowledge(new ApplierAck(Name, opened.Sequence, true));
        await begin;

        for (var i = 1; i <= 7; i++) await sink.AddAsync(Change(i), new Lsn(100), CancellationToken.None);
        Assert.Equal(7, applier.ExpectMsg<ApplyChanges>().Changes.Count);

        var big = new TableApplierSink(Name, applier.Ref, coordinator.Ref, chunkSize: 3, chunkBytes: 1 << 20);
        var second = big.BeginAsync(Lsn.Invalid, 1, CancellationToken.None);
        big.Acknowledge(new ApplierAck(Name, applier.ExpectMsg<BeginBatch>().Sequence, true));
        await second;
        for (var i = 1; i <= 3; i++) await big.AddAsync(Change(i), new Lsn(100), CancellationToken.None);
        Assert.Equal(3, applier.ExpectMsg<ApplyChanges>().Changes.Count);
    }

    [Fact]
    public async Task One_chunk_is_in_flight_while_the_next_is_gathered_and_a_pause_stops_the_table()
    {
        var applier = CreateTestProbe();
        var sink = new TableApplierSink(Name, applier.Ref, TestActor, chunkSize: 2);
        var begin = sink.BeginAsync(Lsn.Invalid, 1, CancellationToken.None);
        sink.Acknowledge(new ApplierAck(Name, applier.ExpectMsg<BeginBatch>().Sequence, true));
        await begin;

        await sink.AddAsync(Change(1), new Lsn(100), CancellationToken.None);
        await sink.AddAsync(Change(2), new Lsn(100), CancellationToken.None); // first chunk sent, not yet acknowledged
        var first = applier.ExpectMsg<ApplyChanges>();
        await sink.AddAsync(Change(3), new Lsn(100), CancellationToken.None);
        // The third chunk waits for the first one's acknowledgement: back-pressure, and no second chunk is sent meanwhile.
        var waiting = sink.AddAsync(Change(4), new Lsn(100), CancellationToken.None).AsTask();
        applier.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.False(waiting.IsCompleted);

        // The applier paused the table while applying the first chunk: the sink stops wanting its changes.
        sink.Acknowledge(new ApplierAck(Name, first.Sequence, false));
        Assert.False(await waiting);
        Assert.False(sink.Wants(new Lsn(200)));
    }

    [Fact]
    public async Task A_failure_of_the_applier_fails_the_waiting_command_and_a_commit_carries_its_outcome()
    {
        var applier = CreateTestProbe();
        var sink = new TableApplierSink(Name, applier.Ref, TestActor);
        var begin = sink.BeginAsync(Lsn.Invalid, 1, CancellationToken.None);
        sink.Acknowledge(new ApplierAck(Name, applier.ExpectMsg<BeginBatch>().Sequence, false, Failure: new InvalidOperationException("connection refused")));
        Assert.Equal("connection refused", (await Assert.ThrowsAsync<InvalidOperationException>(() => begin)).Message);

        var again = sink.BeginAsync(new Lsn(50), 1, CancellationToken.None);
        sink.Acknowledge(new ApplierAck(Name, applier.ExpectMsg<BeginBatch>().Sequence, true));
        await again;
        var commit = sink.CommitAsync(new Lsn(300), CancellationToken.None);
        var committed = new TableBatchOutcome.Committed(Name, default, new Lsn(300), "000000010000000000000001");
        sink.Acknowledge(new ApplierAck(Name, applier.ExpectMsg<CommitBatch>().Sequence, true, committed));
        Assert.Same(committed, await commit);
        Assert.False(sink.Wants(new Lsn(300)));
        Assert.True(sink.Wants(new Lsn(301)));

        // The applier stops (its table left the list): what waits for it fails at once instead of hanging.
        var orphan = sink.TruncateAsync(new Lsn(400), CancellationToken.None);
        applier.ExpectMsg<TruncateTable>();
        sink.Fail(new InvalidOperationException("the applier stopped"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => orphan);
    }

    private static RowChange Change(int i) => new(ChangeKind.Delete, Table, new Lsn((ulong)i), null, null);
}
