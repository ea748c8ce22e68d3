using Akka.Actor;
using Akka.Routing;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Pipeline;
using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Changes;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>The WAL decoder pool and the ordered supply over real segments: the same transactions as reading the files one after the other.</summary>
public sealed class WalDecoderPoolTests() : TestKit("akka.actor.provider = local")
{
    [Theory]
    [InlineData("auto", 2, 0)]
    [InlineData("auto", 4, 3)]
    [InlineData("auto", 16, 4)]
    [InlineData("0", 16, 0)]
    [InlineData("3", 2, 3)]
    public void Decoder_count_follows_the_setting_and_the_cores(string setting, int cores, int expected) =>
        Assert.Equal(expected, SyncSupervisor.WalDecoderCount(setting, cores));

    [Fact]
    public void The_shipped_setting_is_auto() =>
        Assert.Equal("auto", DataSync.Actors.Hosting.DataSyncHocon.Load().GetString("datasync.wal-decoders"));

    [Fact]
    public void A_nonsense_decoder_count_is_refused_with_the_setting_named() =>
        Assert.Contains("datasync.wal-decoders", Assert.Throws<ArgumentException>(() => SyncSupervisor.WalDecoderCount("many", 2)).Message);

    [Fact]
    public async Task Segments_framed_by_the_pool_decode_to_the_same_transactions_as_the_files()
    {
        await using var production = await ProductionCluster.StartAsync("decoder-pool");
        await production.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY, v text)");
        await using var source = await production.Server.OpenAsync(ProductionCluster.Database);
        var start = Lsn.Parse(await production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
        var (catalog, locations) = await ProductionCatalogReader.ReadAsync(source, [new TableName("public", "t")], start, CancellationToken.None);
        for (var round = 0; round < 4; round++)
        {
            await production.ExecuteAsync($"INSERT INTO t SELECT g, repeat('v', 300) FROM generate_series({round * 20000 + 1}, {round * 20000 + 20000}) g");
            await production.ExecuteAsync($"UPDATE t SET v = 'u' WHERE id % 7 = {round}");
        }

        var last = await production.SwitchSegmentAndWaitArchivedAsync();
        var spool = new WalSpool(Path.Combine(Path.GetTempPath(), $"datasync-pool-{Guid.NewGuid():N}"));
        try
        {
            const uint segmentSize = 16 * 1024 * 1024;
            var first = WalSegmentName.Format(1, start.Value / segmentSize, segmentSize);
            foreach (var file in production.ArchivedSegments().Where(s => string.CompareOrdinal(Path.GetFileName(s), first) >= 0 && string.CompareOrdinal(Path.GetFileName(s), last) <= 0))
                File.Copy(file, spool.PathOf(Path.GetFileName(file)));
            var names = spool.Segments();
            Assert.True(names.Count >= 3, $"{names.Count} segments");

            var pool = Sys.ActorOf(WalDecoder.Props(spool.Framer(), spool).WithRouter(new SmallestMailboxPool(3)));
            // Every segment asked at once, answered in whatever order the decoders finish, put back in order by the one reorder buffer.
            var options = new WalReaderOptions();
            var sequence = 0;
            using var inbox = new FramedSegmentInbox();
            foreach (var name in names) pool.Tell(new FrameSegment(new SegmentRequest(name, options, 7, sequence++), inbox), TestActor);
            using var reorder = new SegmentReorderBuffer(names.Count);
            var ordered = new List<FramedSegment>();
            foreach (var _ in names)
            {
                var answer = ExpectMsg<SegmentFramed>(TimeSpan.FromSeconds(30));
                Assert.Equal(7, answer.Request.Epoch);
                var segment = inbox.Take(answer.Request);
                Assert.NotNull(segment);
                Assert.Equal(SegmentAdmission.Accepted, reorder.TryAdd(answer.Request.Sequence, segment));
                while (reorder.TakeNext() is { } next) ordered.Add(next);
            }

            Assert.Equal(names, ordered.Select(s => s.Name.BaseName).ToList());
            var framed = Summaries(new ChangeDecoder(catalog, locations, ordered, start));
            var files = Summaries(new ChangeDecoder(catalog, locations, names.Select(n => WalSegmentSource.FromFile(spool.PathOf(n))), start));

            Assert.Equal(files, framed);
            Assert.Equal(8, files.Count);
        }
        finally
        {
            Directory.Delete(spool.Directory, recursive: true);
        }
    }

    private static List<string> Summaries(ChangeDecoder decoder)
    {
        using (decoder)
        {
            return decoder.Transactions().Select(t => $"{t.Xid} {t.CommitLsn} {t.Changes.OfType<RowChange>().Count()} {t.StartedBeforeDecoding}").ToList();
        }
    }
}
