using DataSync.Core.Configuration;
using DataSync.Core.Sync;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Sync;

/// <summary>
/// The daemon's fetch from the spool alone, before the local database is reached: real archived segments, a spool that
/// holds the first of them as a restarted daemon's does.
/// </summary>
public sealed class SpoolPrefetchTests
{
    [Fact]
    public async Task A_spool_that_holds_segments_is_continued_from_the_archive_and_a_half_written_copy_of_someone_else_is_left_alone()
    {
        await using var production = await ProductionCluster.StartAsync("prefetch", shape: new DataSync.Embedded.ProductionShape { WalSegmentSizeMb = 2 });
        await production.ExecuteAsync("CREATE TABLE p (id int PRIMARY KEY, v text); INSERT INTO p SELECT g, md5(g::text) FROM generate_series(1, 3000) g");
        var first = await production.SwitchSegmentAndWaitArchivedAsync();
        await production.ExecuteAsync("UPDATE p SET v = v || 'x'");
        var second = await production.SwitchSegmentAndWaitArchivedAsync();
        await production.ExecuteAsync("DELETE FROM p WHERE id % 3 = 0");
        var third = await production.SwitchSegmentAndWaitArchivedAsync();

        var state = Path.Combine(production.Root, "state");
        var settings = Settings(production.ArchiveDirectory, state);
        var spool = SyncOptions.SpoolDirectoryOf(settings);
        Directory.CreateDirectory(spool);
        File.Copy(Path.Combine(production.ArchiveDirectory, first), Path.Combine(spool, first));
        // Another daemon wrongly started on the same state folder, halfway through a copy: not ours to delete.
        var othersCopy = Path.Combine(spool, "0000000100000000000000F0.fetching");
        await File.WriteAllTextAsync(othersCopy, "half");

        var landed = new List<string>();
        var prefetch = SpoolPrefetch.Start(settings, spool, name => { lock (landed) landed.Add(name); });
        await WaitUntilAsync(() => { lock (landed) return landed.Contains(third); });
        await prefetch.StopAsync();
        await prefetch.StopAsync();

        Assert.Equal([second, third], landed);
        foreach (var segment in new[] { second, third })
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(production.ArchiveDirectory, segment)), await File.ReadAllBytesAsync(Path.Combine(spool, segment)));
        Assert.True(File.Exists(othersCopy), "the other writer's half-written copy was deleted");
    }

    [Fact]
    public async Task An_empty_spool_is_left_to_the_regular_fetch_which_knows_the_start_point()
    {
        await using var production = await ProductionCluster.StartAsync("prefetch-empty");
        await production.SwitchSegmentAndWaitArchivedAsync();
        var state = Path.Combine(production.Root, "state");
        var settings = Settings(production.ArchiveDirectory, state);
        var spool = SyncOptions.SpoolDirectoryOf(settings);
        Directory.CreateDirectory(spool);

        var landed = 0;
        var prefetch = SpoolPrefetch.Start(settings, spool, _ => Interlocked.Increment(ref landed));
        await Task.Delay(500);
        await prefetch.StopAsync();

        Assert.Equal(0, landed);
        Assert.Empty(Directory.EnumerateFileSystemEntries(spool));
    }

    private static DataSyncSettings Settings(string archive, string state) => new()
    {
        PgPassword = "unused", PgDbName = "unused", ArchiveDir = archive, BaseBackupDir = "/unused", StateDir = state,
        SshKeyFile = "/unused", SshKnownHosts = "/unused",
    };

    private static async Task WaitUntilAsync(Func<bool> done)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!done())
        {
            Assert.True(DateTime.UtcNow < deadline, "the prefetch never spooled the next segment");
            await Task.Delay(20);
        }
    }
}
