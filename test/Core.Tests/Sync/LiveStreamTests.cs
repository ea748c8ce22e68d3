using DataSync.Embedded;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>The stream lives across segments: a transaction open over many of them costs one framing per segment, not a decode from its start at every pass.</summary>
public sealed class LiveStreamTests
{
    private const string Checksum = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM items t";

    [Fact]
    public async Task A_transaction_over_ten_segments_delivered_one_by_one_costs_ten_segment_decodes()
    {
        // 1 MiB segments, a superuser and database not named like ours: the segment arithmetic must follow the cluster.
        await using var production = await ProductionCluster.StartAsync("live-stream",
            shape: new ProductionShape { WalSegmentSizeMb = 1, Superuser = "owner", Database = "shop" });
        await using var local = await LocalCluster.StartAsync("live-stream");
        const string Ddl = "CREATE TABLE items (id bigint PRIMARY KEY, body text NOT NULL)";
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'before ' || g FROM generate_series(1, 100) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await local.ExecuteAsync(Ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "items");
        // A 64 KiB memory limit: the open transaction spills, so its spill file is what a re-decode would rewrite.
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource, memoryLimitBytes: 64 * 1024);
        var bootstrap = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(["public.items"], bootstrap.TablesBootstrapped);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await engine.RunCycleAsync(CancellationToken.None);
        var framedBefore = engine.SegmentsFramed;
        var spilledBefore = (engine.Spill!.BytesWritten, engine.Spill.FilesCreated);
        var archivedBefore = production.ArchivedSegments().Count;

        await using var open = await production.Server.OpenAsync(production.DatabaseName);
        await using var transaction = await open.BeginTransactionAsync();
        for (var step = 0; step < 10; step++)
        {
            // About 300 KB of WAL, then the segment is closed and archived: each pass sees one more segment of the same transaction.
            await using (var insert = new NpgsqlCommand(
                $"INSERT INTO items SELECT g, repeat(md5(g::text), 8) FROM generate_series({1000 + step * 1000}, {1999 + step * 1000}) g", open, transaction))
                await insert.ExecuteNonQueryAsync();
            await production.SwitchSegmentAndWaitArchivedAsync();
            var pass = await engine.RunCycleAsync(CancellationToken.None);
            Assert.Equal(0, pass.RowsApplied);
        }

        await transaction.CommitAsync();
        await production.SwitchSegmentAndWaitArchivedAsync();
        var last = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(10_000, last.RowsApplied);
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));

        // Each segment archived since is framed exactly once (the old stream decoded from the transaction's start at every pass: 1 + 2 + ... + 11).
        var archived = production.ArchivedSegments().Count - archivedBefore;
        Assert.Equal(11, archived);
        Assert.Equal(archived, engine.SegmentsFramed - framedBefore);
        // The open transaction went to one spill file, written once: not rewritten from its start at every pass.
        Assert.Equal(1, engine.Spill.FilesCreated - spilledBefore.FilesCreated);
        var spilled = engine.Spill.BytesWritten - spilledBefore.BytesWritten;
        Assert.InRange(spilled, 1, archived * 1024L * 1024);
    }
}
