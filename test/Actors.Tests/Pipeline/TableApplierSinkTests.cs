using Akka.TestKit.Xunit2;
using DataSync.Actors.Pipeline;
using DataSync.Core.Tables;
using DataSync.Messages.Pipeline;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>How the router's sink cuts a table's changes into chunks for its applier.</summary>
public sealed class TableApplierSinkTests() : TestKit("akka.actor.provider = local")
{
    private static readonly TableDescriptor Table = new("public", "t", 1, 1, 1663, 5, 0, 0, 'd', [1], []);

    [Fact]
    public async Task A_chunk_ends_at_its_row_count_or_its_bytes_whichever_comes_first()
    {
        var applier = CreateTestProbe();
        // A change without row images counts 160 bytes: 1000 bytes end a chunk at the 7th change, before 10 changes do.
        var sink = new TableApplierSink(new TableName("public", "t"), applier.Ref, chunkSize: 10, chunkBytes: 1000);

        var begin = sink.BeginAsync(Lsn.Invalid, 1, CancellationToken.None);
        applier.ExpectMsg<BeginBatch>();
        applier.Reply(new BatchAck(true));
        await begin;

        for (var i = 1; i <= 7; i++) await sink.AddAsync(Change(i), new Lsn(100), CancellationToken.None);
        Assert.Equal(7, applier.ExpectMsg<ApplyChanges>().Changes.Count);
        applier.Reply(new BatchAck(true));

        var big = new TableApplierSink(new TableName("public", "t"), applier.Ref, chunkSize: 3, chunkBytes: 1 << 20);
        var second = big.BeginAsync(Lsn.Invalid, 1, CancellationToken.None);
        applier.ExpectMsg<BeginBatch>();
        applier.Reply(new BatchAck(true));
        await second;
        for (var i = 1; i <= 3; i++) await big.AddAsync(Change(i), new Lsn(100), CancellationToken.None);
        Assert.Equal(3, applier.ExpectMsg<ApplyChanges>().Changes.Count);
    }

    private static RowChange Change(int i) => new(ChangeKind.Delete, Table, new Lsn((ulong)i), null, null);
}
