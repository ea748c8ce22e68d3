using Akka.Actor;
using Akka.TestKit.Xunit2;
using DataSync.Actors.Daemon;
using DataSync.Actors.Pipeline;
using DataSync.Core.Archive;
using DataSync.Core.Configuration;
using DataSync.Embedded;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>
/// The coordinator over real clusters, with probes for the decoder pool and the bootstrapper: it asks for a bounded
/// number of segments ahead, each once and in order, takes the framed segments in whatever order they come back, and
/// applies them so the local table equals production.
/// </summary>
public sealed class StreamCoordinatorSpec() : TestKit("akka.actor.provider = local")
{
    private const string Checksum = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM items t";

    [Fact]
    public async Task Asks_for_frames_a_bounded_number_ahead_reorders_them_and_applies_them()
    {
        await using var production = await ProductionCluster.StartAsync("coordinator-spec", shape: new ProductionShape { WalSegmentSizeMb = 1 });
        await using var local = await LocalCluster.StartAsync("coordinator-spec");
        const string Ddl = "CREATE TABLE items (id bigint PRIMARY KEY, v text)";
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 50) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await local.ExecuteAsync(Ddl);
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await new TableRegistry(dataSource).AddAsync(TableNameParser.ParseList(["items"]), "spec");
        var settings = new DataSyncSettings
        {
            PgPassword = local.Password, PgDbName = LocalCluster.Database, ProdDbName = production.DatabaseName, PgPort = local.Port, PgUserName = LocalCluster.User,
            ArchiveDir = production.ArchiveDirectory, BaseBackupDir = production.BackupDirectory, StateDir = Path.Combine(local.Root, "state"),
            SshKeyFile = "/none", SshKnownHosts = "/none",
        };
        var (binaries, account) = await TestPostgres.GetAsync();
        var options = await new SyncOptions { Settings = settings, Archive = new LocalArchiveSource(settings.ArchiveDir), Binaries = binaries, Account = account }
            .WithSegmentSizeAsync(CancellationToken.None);
        // The bootstrap is the engine's (the coordinator only asks for one): the table starts syncing from the backup.
        await using (var engine = new SyncEngine(options, dataSource)) await engine.RunCycleAsync(CancellationToken.None);

        for (var round = 0; round < 5; round++)
        {
            await production.ExecuteAsync($"INSERT INTO items SELECT g, repeat('x', 400) FROM generate_series({1000 * round + 100}, {1000 * round + 999}) g; UPDATE items SET v = 'u{round}' WHERE id % 5 = {round}");
            await production.SwitchSegmentAndWaitArchivedAsync();
        }

        var parts = new SyncParts(options, dataSource);
        await parts.FetchAsync(CancellationToken.None);
        var decoders = CreateTestProbe();
        var bootstrapper = CreateTestProbe();
        var coordinator = Sys.ActorOf(StreamCoordinator.Props(parts, dataSource, settings, options.SegmentSize, bootstrapper.Ref, new DaemonCounters(DateTimeOffset.UtcNow),
            new FailureLog(dataSource, new LocalDatabaseOutage(settings)), decoders.Ref, ahead: 3));
        coordinator.Tell(new SegmentsSpooled(5, null));

        var framer = parts.Fetcher.Spool.Framer();
        var asked = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (await production.QueryScalarAsync<string>(Checksum) != await local.QueryScalarAsync<string>(Checksum))
        {
            Assert.True(DateTime.UtcNow < deadline, $"not identical after asking for {string.Join(", ", asked)}");
            var batch = new List<FrameSegment>();
            while (decoders.ReceiveWhile(TimeSpan.FromMilliseconds(500), m => m as FrameSegment) is { Count: > 0 } more) batch.AddRange(more.OfType<FrameSegment>());
            // Back-pressure: never more than three asked and unanswered.
            Assert.InRange(batch.Count, 0, 3);
            asked.AddRange(batch.Select(f => f.Request.SegmentName));
            // Answered last first: the coordinator puts them back in order.
            foreach (var frame in Enumerable.Reverse(batch))
            {
                frame.Inbox.Deposit(frame.Request, framer.With(frame.Request.Options).Frame(parts.Fetcher.Spool.Source(frame.Request.SegmentName)));
                coordinator.Tell(new SegmentFramed(frame.Request));
            }
        }

        // Each segment asked for once, in WAL order, with no gap.
        Assert.Equal(asked.Distinct().Order(StringComparer.Ordinal), asked);
        var numbers = asked.Select(n => WalSegmentName.TryParse(n, out var name) ? name.SegmentNumber(options.SegmentSize) : 0UL).ToList();
        Assert.Equal(Enumerable.Range(0, numbers.Count).Select(i => numbers[0] + (ulong)i), numbers);
        Assert.True(asked.Count >= 5, $"{asked.Count} segments asked for");
        bootstrapper.ExpectNoMsg(TimeSpan.Zero);
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
    }
}
