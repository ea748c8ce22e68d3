using DataSync.Core.Archive;
using DataSync.Core.Configuration;
using DataSync.Embedded;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>A segment whose records fail their CRC: reported once per table with file and LSN, nothing past it applied, and taken again from the archive once it is repaired.</summary>
public sealed class CorruptSegmentTests
{
    private const string Checksum = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM items t";

    [Fact]
    public async Task A_corrupt_segment_is_reported_once_and_the_repaired_copy_is_fetched_again()
    {
        await using var production = await ProductionCluster.StartAsync("corrupt");
        await using var local = await LocalCluster.StartAsync("corrupt");
        const string ddl = "CREATE TABLE items (id bigint PRIMARY KEY, label text NOT NULL)";
        await production.ExecuteAsync(ddl);
        await production.ExecuteAsync("INSERT INTO items SELECT g, 'first ' || g FROM generate_series(1, 100) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();

        await local.ExecuteAsync(ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "items");
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource);
        Assert.Equal(["public.items"], (await engine.RunCycleAsync(CancellationToken.None)).TablesBootstrapped);
        var synced = await local.QueryScalarAsync<string>(Checksum);

        // Enough rows to fill many pages of one segment, then damage bytes in the middle of its records.
        await production.ExecuteAsync("INSERT INTO items SELECT g, repeat('x', 100) FROM generate_series(1000, 6000) g");
        var damaged = await production.SwitchSegmentAndWaitArchivedAsync();
        await production.ExecuteAsync("UPDATE items SET label = 'later' WHERE id <= 10");
        await production.SwitchSegmentAndWaitArchivedAsync();
        var path = Path.Combine(production.ArchiveDirectory, damaged);
        var good = await File.ReadAllBytesAsync(path);
        var bad = (byte[])good.Clone();
        for (var offset = 3 * 8192 + 1000; offset < 3 * 8192 + 1064; offset++) bad[offset] ^= 0x5A;
        await File.WriteAllBytesAsync(path, bad);

        for (var pass = 0; pass < 3; pass++)
        {
            var failure = await Assert.ThrowsAsync<WalFormatException>(() => engine.RunCycleAsync(CancellationToken.None));
            Assert.Contains(damaged, failure.FileName);
        }

        Assert.Equal(synced, await local.QueryScalarAsync<string>(Checksum));   // nothing of the damaged segment, nor after it
        var detail = await local.QueryScalarAsync<string>("SELECT string_agg(error_detail, ' | ') FROM data_sync_logs WHERE status = 'FAILED'");
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        Assert.Contains("public.items", detail);
        Assert.Contains(damaged, detail);
        Assert.Contains("LSN", detail);

        // The backup machine gets a good copy back: the spool takes it again and the sync goes on.
        await File.WriteAllBytesAsync(path, good);
        await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
    }
}
