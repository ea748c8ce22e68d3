using DataSync.Core.Bootstrap;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Sync;

/// <summary>
/// Productions unlike the suite's usual one: WAL segments of 64 MiB or 1 MiB, data checksums off, a table in a
/// tablespace, base backups in tar format (gzip, one tar per tablespace, tablespace_map) or plain with pg_tblspc
/// links, with a backup_manifest, and an archive holding several base backups. Bootstrapped and synced through the
/// engine while production writes.
/// </summary>
public sealed class ProductionShapeSyncTests
{
    private const string Ddl = """
        CREATE TABLE spaced (id bigint PRIMARY KEY, payload text, n int);
        CREATE TABLE plain_items (id bigint PRIMARY KEY, what text);
        """;

    private static string Checksum(string table) => $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t";

    [Theory]
    [InlineData(64, BaseBackupFormat.Tar)]
    [InlineData(1, BaseBackupFormat.Plain)]
    public async Task Syncs_a_production_with_other_segment_sizes_a_tablespace_and_a_manifest(int segmentMb, BaseBackupFormat format)
    {
        var name = $"shape-{segmentMb}-{format}".ToLowerInvariant();
        await using var production = await ProductionCluster.StartAsync(name, shape: new ProductionShape { WalSegmentSizeMb = segmentMb, DataChecksums = false });
        await using var local = await LocalCluster.StartAsync(name);
        var (_, account) = await TestPostgres.GetAsync();
        var location = Path.Combine(production.Root, "tablespace-location");
        Directory.CreateDirectory(location);
        await account.TakeOwnershipAsync(location);
        await production.ExecuteAsync($"CREATE TABLESPACE \"fast space\" LOCATION '{location}'");
        await production.ExecuteAsync("""
            CREATE TABLE spaced (id bigint PRIMARY KEY, payload text, n int) TABLESPACE "fast space";
            CREATE TABLE plain_items (id bigint PRIMARY KEY, what text);
            INSERT INTO spaced SELECT g, repeat('p', g % 50), g FROM generate_series(1, 2000) g;
            INSERT INTO plain_items SELECT g, 'w' || g FROM generate_series(1, 500) g;
            """);
        // An older backup (and its .backup history file in the archive): the newest backup is the one used.
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.ExecuteAsync("UPDATE spaced SET n = n + 1 WHERE id <= 100");
        var backup = await production.TakeBaseBackupAsync(format, gzip: format == BaseBackupFormat.Tar, manifest: true);
        if (format == BaseBackupFormat.Tar)
        {
            Assert.True(File.Exists(Path.Combine(backup.Directory, "base.tar.gz")));
            Assert.Single(Directory.EnumerateFiles(backup.Directory, "*.tar.gz"), f => Path.GetFileName(f) != "base.tar.gz");
        }
        else
        {
            Assert.NotNull(new DirectoryInfo(Directory.EnumerateFileSystemEntries(Path.Combine(backup.Directory, "pg_tblspc")).Single()).LinkTarget);
        }

        // The restore's tablespace is a link into the restore, never production's location, and tablespace_map is gone.
        var probe = Path.Combine(local.Root, "probe");
        BaseBackup.FindAll(production.BackupDirectory)[0].ExtractTo(Path.Combine(probe, "data"));
        var link = new DirectoryInfo(Directory.EnumerateFileSystemEntries(Path.Combine(probe, "data", "pg_tblspc")).Single());
        Assert.StartsWith(Path.Combine(probe, "tablespaces") + "/", link.LinkTarget);
        Assert.False(File.Exists(Path.Combine(probe, "data", "tablespace_map")));
        Assert.Equal((uint)segmentMb << 20, ControlFileSettings.Read(Path.Combine(probe, "data", "global", "pg_control")).WalSegmentSize);
        Directory.Delete(probe, recursive: true);

        await local.ExecuteAsync(Ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "spaced, plain_items");
        var recorder = new ProgressRecorder();
        var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource, recorder);

        // Production keeps writing while the engine bootstraps from the backup.
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await production.ExecuteAsync($"INSERT INTO spaced VALUES ({10000 + i}, 'live', {i}); UPDATE plain_items SET what = 'u{i}' WHERE id = {1 + i % 500}; DELETE FROM spaced WHERE id = {1 + i};");
                await Task.Delay(5);
            }
        });
        await production.SwitchSegmentAndWaitArchivedAsync();
        var first = await engine.RunCycleAsync(CancellationToken.None);
        await stop.CancelAsync();
        await writer;
        Assert.Equal(["public.plain_items", "public.spaced"], first.TablesBootstrapped.Order());
        Assert.Contains(recorder.Lines, l => l.Contains($"WAL segments are {segmentMb} MiB", StringComparison.Ordinal));

        await production.SwitchSegmentAndWaitArchivedAsync();
        var second = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Empty(second.TablesPaused);
        foreach (var table in new[] { "spaced", "plain_items" })
            Assert.Equal(await production.QueryScalarAsync<string>(Checksum(table)), await local.QueryScalarAsync<string>(Checksum(table)));
        Assert.True(await local.QueryScalarAsync<long>("SELECT count(*) FROM spaced WHERE payload = 'live'") > 0, "rows written during the bootstrap arrived");
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        await engine.DisposeAsync();
    }
}
