using DataSync.Core.Sync;
using Akka.Actor;
using Akka.Routing;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Pipeline;
using DataSync.Core.Archive;
using DataSync.TestRig;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>
/// A pool of WAL decoders over real archived segments, one of them damaged: every request is answered once with
/// the segment it named, framed; the damage travels inside that segment's answer (file and offset), and no
/// decoder throws or restarts over it.
/// </summary>
public sealed class WalDecoderSpecs() : TestKit("akka.actor.provider = local\nakka.loglevel = WARNING")
{
    [Fact]
    public async Task A_pool_frames_every_segment_once_and_a_damaged_one_carries_its_error_instead_of_crashing_a_decoder()
    {
        await using var production = await ProductionCluster.StartAsync("decoder-errors");
        await production.ExecuteAsync("CREATE TABLE t (id int PRIMARY KEY, v text)");
        var start = await production.QueryScalarAsync<string>("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
        for (var round = 0; round < 3; round++)
            await production.ExecuteAsync($"INSERT INTO t SELECT g, repeat('v', 300) FROM generate_series({round * 20000 + 1}, {round * 20000 + 20000}) g");
        var last = await production.SwitchSegmentAndWaitArchivedAsync();

        var spool = new WalSpool(Path.Combine(Path.GetTempPath(), $"datasync-decoders-{Guid.NewGuid():N}"));
        try
        {
            foreach (var file in production.ArchivedSegments().Where(s => string.CompareOrdinal(Path.GetFileName(s), start) >= 0 && string.CompareOrdinal(Path.GetFileName(s), last) <= 0))
                File.Copy(file, spool.PathOf(Path.GetFileName(file)));
            var names = spool.Segments();
            Assert.True(names.Count >= 3, $"{names.Count} segments");

            // Damage the second segment in the middle of its fourth page, where the inserts' records are.
            var damaged = names[1];
            await using (var stream = new FileStream(spool.PathOf(damaged), FileMode.Open, FileAccess.ReadWrite))
            {
                stream.Position = 3 * 8192 + 1000;
                var bytes = new byte[64];
                stream.ReadExactly(bytes);
                for (var i = 0; i < bytes.Length; i++) bytes[i] ^= 0xFF;
                stream.Position = 3 * 8192 + 1000;
                stream.Write(bytes);
            }

            var pool = Sys.ActorOf(WalDecoder.Props(spool.Framer(), spool).WithRouter(new SmallestMailboxPool(3)), WalDecoder.PoolName);
            var framed = new Dictionary<string, FramedSegment>();
            using var inbox = new FramedSegmentInbox();
            try
            {
                await EventFilter.Exception<Exception>().ExpectAsync(0, () =>
                {
                    var sequence = 0;
                    foreach (var name in names) pool.Tell(new FrameSegment(new SegmentRequest(name, new WalReaderOptions(), 1, sequence++), inbox), TestActor);
                    foreach (var _ in names)
                    {
                        var segment = inbox.Take(ExpectMsg<SegmentFramed>(TimeSpan.FromSeconds(60)).Request)!;
                        Assert.True(framed.TryAdd(segment.FileName, segment), $"{segment.FileName} answered twice");
                    }

                    return Task.CompletedTask;
                });
                ExpectNoMsg(TimeSpan.FromMilliseconds(200));

                Assert.Equal(names.Order(StringComparer.Ordinal), framed.Keys.Order(StringComparer.Ordinal));
                var failure = framed[damaged].Failure;
                Assert.NotNull(failure);
                Assert.Equal(damaged, Path.GetFileName(failure.FileName));
                Assert.InRange(failure.FileOffset, 0, 3 * 8192 + 1064);
                // The segment before the damage frames completely; its records reach into the damaged file only if one crosses.
                Assert.Null(framed[names[0]].Failure);
                Assert.True(framed[names[0]].RecordCount > 0);
                Assert.All(names.Skip(2).SkipLast(1), n => Assert.True(framed[n].IsComplete, $"{n}: {framed[n].Failure?.Message}"));
            }
            finally
            {
                foreach (var segment in framed.Values) segment.Dispose();
            }
        }
        finally
        {
            Directory.Delete(spool.Directory, recursive: true);
        }
    }
}
