using DataSync.Core.Archive;
using DataSync.Core.Configuration;
using DataSync.Embedded;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>
/// A transaction that began before the base backup and is still open where the restore first pauses:
/// decoding from the backup's start cannot see its earlier changes, so the bootstrap replays on to a
/// point where it has ended and copies from there, instead of pausing the table.
/// </summary>
public sealed class BootstrapLaterPointTests
{
    private static string Checksum(string table) => $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t";

    [Fact]
    public async Task A_transaction_open_across_the_base_backup_moves_the_copy_to_a_later_point()
    {
        await using var production = await ProductionCluster.StartAsync("laterpoint");
        await using var local = await LocalCluster.StartAsync("laterpoint");
        const string ddl = "CREATE TABLE items (id bigint PRIMARY KEY, label text NOT NULL)";
        await production.ExecuteAsync(ddl);
        await production.ExecuteAsync("INSERT INTO items SELECT g, 'before ' || g FROM generate_series(1, 100) g");

        // Began before the backup, with changes before the backup's start.
        await using var open = await production.Server.OpenAsync(ProductionCluster.Database);
        await using var openTransaction = await open.BeginTransactionAsync();
        await using (var early = new NpgsqlCommand("INSERT INTO items SELECT g, 'open ' || g FROM generate_series(1001, 1050) g", open, openTransaction))
            await early.ExecuteNonQueryAsync();
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.ExecuteAsync("UPDATE items SET label = 'after backup' WHERE id <= 10");
        await production.SwitchSegmentAndWaitArchivedAsync();

        await local.ExecuteAsync(ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "items");
        var progress = new ProgressRecorder();
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource, progress);

        // While the bootstrap waits at its first pause, the old transaction writes more, commits, and its WAL is archived.
        var finishing = Task.Run(async () =>
        {
            while (!progress.Lines.Any(p => p.Contains("began before base backup", StringComparison.Ordinal))) await Task.Delay(200);
            await using (var late = new NpgsqlCommand("UPDATE items SET label = 'open and late' WHERE id = 1001", open, openTransaction))
                await late.ExecuteNonQueryAsync();
            await openTransaction.CommitAsync();
            await production.ExecuteAsync("INSERT INTO items VALUES (2000, 'after the commit')");
            await production.SwitchSegmentAndWaitArchivedAsync();
        });

        var first = await engine.RunCycleAsync(CancellationToken.None);
        await finishing;
        Assert.True(first.TablesBootstrapped.SequenceEqual(["public.items"]), string.Join("\n", progress.Lines));
        Assert.Contains(progress.Lines, p => p.Contains("replay paused again", StringComparison.Ordinal));

        await production.ExecuteAsync("DELETE FROM items WHERE id = 1002");
        await production.SwitchSegmentAndWaitArchivedAsync();
        var second = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Empty(second.TablesPaused);
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum("items")), await local.QueryScalarAsync<string>(Checksum("items")));
        Assert.Equal(49L, await local.QueryScalarAsync<long>("SELECT count(*) FROM items WHERE label LIKE 'open%'"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        Assert.Equal("syncing", await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.items'"));
    }
}
