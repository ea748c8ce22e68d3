using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Core.Configuration;
using DataSync.Embedded;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Changes;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>
/// A failover on production: a standby restored from a base backup, recovering from the archive and streaming, is
/// promoted after the primary stops; it writes timeline 2 into the same archive. The sync follows it.
/// </summary>
public sealed class TimelineSwitchTests
{
    private const string Ddl = """
        CREATE TABLE items (id bigint PRIMARY KEY, val text NOT NULL, n int);
        CREATE TABLE notes (id bigint PRIMARY KEY, body text);
        """;

    private static string Checksum(string table) => $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t";

    [Fact]
    public async Task The_sync_follows_a_promoted_standby_to_timeline_2_and_ends_identical_to_it()
    {
        await using var production = await ProductionCluster.StartAsync("timeline");
        await using var local = await LocalCluster.StartAsync("timeline");
        await production.ExecuteAsync(Ddl + """
            INSERT INTO items SELECT g, 'v' || g, g FROM generate_series(1, 500) g;
            INSERT INTO notes SELECT g, repeat('n', g) FROM generate_series(1, 100) g;
            """);
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        // Timeline 1, archived whole.
        await production.ExecuteAsync("UPDATE items SET n = n + 1 WHERE id % 3 = 0; INSERT INTO items SELECT g, 'w' || g, 0 FROM generate_series(501, 600) g; UPDATE notes SET body = 'tl1' WHERE id < 10;");
        await production.SwitchSegmentAndWaitArchivedAsync();

        await local.ExecuteAsync(Ddl);
        var (binaries, account) = await TestPostgres.GetAsync();
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        var registry = new TableRegistry(dataSource);
        await registry.AddAsync(TableNameParser.ParseList(["items"]), "test");
        var settings = new DataSyncSettings
        {
            PgPassword = local.Password, PgDbName = LocalCluster.Database, ProdDbName = ProductionCluster.Database,
            ArchiveDir = production.ArchiveDirectory, BaseBackupDir = production.BackupDirectory, StateDir = Path.Combine(local.Root, "state"),
            SshKeyFile = "/none", SshKnownHosts = "/none", PgPort = local.Port, PgUserName = LocalCluster.User,
        };
        var progress = new List<string>();
        var engine = new SyncEngine(new SyncOptions
        {
            Settings = settings, Archive = new LocalArchiveSource(production.ArchiveDirectory), Binaries = binaries, Account = account,
            MemoryLimitBytes = 64 * 1024, Progress = new Recorder(progress),
        }, dataSource);
        await engine.RunCycleAsync(CancellationToken.None);
        await AssertSameAsync(production, local, "items");

        // The standby catches up; the last writes of timeline 1 reach it only by streaming, never the archive as a whole segment.
        await using var standby = await StandbyCluster.StartAsync(production, backup);
        await production.ExecuteAsync("UPDATE items SET val = val || '-streamed' WHERE id BETWEEN 100 AND 160; DELETE FROM items WHERE id > 590; INSERT INTO items VALUES (1000, 'last on timeline 1', 1);");
        await production.ExecuteAsync("UPDATE notes SET body = 'streamed' WHERE id BETWEEN 20 AND 25");
        var lastOnOne = await production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text");
        var switchSegment = await production.QueryScalarAsync<string>("SELECT pg_walfile_name(pg_current_wal_insert_lsn())");
        await standby.WaitReplayedAsync(lastOnOne);
        // The primary fails: an immediate stop, so its last segment is never completed (a clean shutdown with archiving
        // on would switch and archive it whole, and the standby's timeline would then begin at a segment boundary).
        await production.Server.StopAsync("immediate");
        await standby.PromoteAsync();

        // Timeline 2.
        await standby.ExecuteAsync("UPDATE items SET n = -n WHERE id % 7 = 0; DELETE FROM items WHERE id BETWEEN 10 AND 19; INSERT INTO items SELECT g, 'tl2-' || g, 2 FROM generate_series(2001, 2300) g;");
        await standby.ExecuteAsync("UPDATE notes SET body = 'tl2' WHERE id > 90");
        var lastTimeline2Segment = await standby.SwitchSegmentAndWaitArchivedAsync();
        Assert.StartsWith("00000002", lastTimeline2Segment, StringComparison.Ordinal);
        await production.WaitArchivedAsync("00000002.history", TimeSpan.FromSeconds(30));
        await production.WaitArchivedAsync(switchSegment + ".partial", TimeSpan.FromSeconds(30));
        Assert.False(File.Exists(Path.Combine(production.ArchiveDirectory, switchSegment)), "timeline 1's switch segment should only be archived as .partial");

        var followed = await engine.RunCycleAsync(CancellationToken.None);
        Assert.True(followed.TablesPaused.Count == 0, string.Join(" / ", progress));
        await AssertSameAsync(standby, local, "items");
        // These changes of timeline 1 exist only in its .partial and in timeline 2's copy of the switch segment.
        Assert.Equal(61L, await local.QueryScalarAsync<long>("SELECT count(*) FROM items WHERE val LIKE '%-streamed'"));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM items WHERE id = 1000"));
        var spool = new WalSpool(Path.Combine(settings.StateDir, "spool"));
        Assert.Contains(spool.Histories(), h => h.Timeline == 2);
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'SUCCESS' AND archive_ref LIKE '%00000002000000%'"));

        // A table added after the switch is bootstrapped from the timeline-1 base backup: its temporary restore replays
        // the spool across the switch (it finds 00000002.history there), and the stream re-reads from the backup on.
        await registry.AddAsync(TableNameParser.ParseList(["notes"]), "test");
        var added = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(["public.notes"], added.TablesBootstrapped);
        await standby.ExecuteAsync("UPDATE notes SET body = 'after bootstrap' WHERE id = 1; INSERT INTO items VALUES (3000, 'after bootstrap', 3);");
        await standby.SwitchSegmentAndWaitArchivedAsync();
        await engine.RunCycleAsync(CancellationToken.None);
        await AssertSameAsync(standby, local, "items");
        await AssertSameAsync(standby, local, "notes");
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));

        await AssertDecoderAgreesWithWalInspectAsync(production, standby, backup, switchSegment);
    }

    /// <summary>
    /// ChangeDecoder over every file of the archive from the backup on (timeline 1's segments, its .partial, timeline 2's
    /// segments, with and without the history file) sees, from the switch segment on, exactly the transactions and heap
    /// changes of <c>items</c> that the promoted server's pg_walinspect shows.
    /// </summary>
    private static async Task AssertDecoderAgreesWithWalInspectAsync(ProductionCluster production, StandbyCluster standby, BaseBackupInfo backup, string switchSegment)
    {
        const uint segmentSize = 16 * 1024 * 1024;
        WalSegmentName.TryParse(switchSegment, out var switchName);
        var from = switchName.StartLsn(segmentSize);
        await standby.ExecuteAsync("CREATE EXTENSION IF NOT EXISTS pg_walinspect");
        var end = await standby.QueryScalarAsync<string>("SELECT pg_current_wal_flush_lsn()::text");
        var relfilenode = await standby.QueryScalarAsync<long>("SELECT pg_relation_filenode('items')::bigint");
        var expectedCommits = new List<(long Xid, string Lsn)>();
        var expectedChanges = new Dictionary<string, long>();
        await using (var connection = await standby.Server.OpenAsync(ProductionCluster.Database))
        {
            await using (var commits = new NpgsqlCommand($"""
                SELECT r.xid::text::bigint, r.start_lsn::text FROM pg_get_wal_records_info('{from}', '{end}') r
                WHERE r.resource_manager = 'Transaction' AND r.record_type = 'COMMIT'
                  AND r.xid IN (SELECT b.xid FROM pg_get_wal_block_info('{from}', '{end}') b WHERE b.relfilenode = {relfilenode})
                ORDER BY r.start_lsn
                """, connection))
            await using (var reader = await commits.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync()) expectedCommits.Add((reader.GetInt64(0), reader.GetString(1)));
            }

            await using (var changes = new NpgsqlCommand($"""
                SELECT CASE WHEN record_type LIKE 'INSERT%' THEN 'INSERT' WHEN record_type LIKE '%UPDATE%' THEN 'UPDATE' ELSE record_type END,
                       count(DISTINCT start_lsn)
                FROM pg_get_wal_block_info('{from}', '{end}')
                WHERE relfilenode = {relfilenode} AND resource_manager = 'Heap' AND block_id = 0
                  AND (record_type LIKE 'INSERT%' OR record_type LIKE '%UPDATE%' OR record_type LIKE 'DELETE%') -- not LOCK
                GROUP BY 1
                """, connection))
            await using (var reader = await changes.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync()) expectedChanges[reader.GetString(0)] = reader.GetInt64(1);
            }
        }

        Assert.True(expectedCommits.Count >= 3, $"pg_walinspect shows only {expectedCommits.Count} commits touching items from {from}");
        CatalogSnapshotAndLocations catalog;
        await using (var connection = await standby.Server.OpenAsync(ProductionCluster.Database))
        {
            var (snapshot, locations) = await ProductionCatalogReader.ReadAsync(connection, [new TableName("public", "items")], Lsn.Parse(end), CancellationToken.None);
            catalog = new CatalogSnapshotAndLocations(snapshot, locations);
        }

        var label = await File.ReadAllTextAsync(Path.Combine(backup.Directory, "backup_label"));
        var backupStart = BackupLabel.Parse(label, backup.Directory).StartLsn;
        var files = Directory.EnumerateFiles(production.ArchiveDirectory)
            .Where(f => WalSegmentName.TryParse(Path.GetFileName(f), out var n) && n.StartLsn(segmentSize).Value + segmentSize > backupStart.Value)
            .ToList();
        Assert.Contains(files, f => f.EndsWith(".partial", StringComparison.Ordinal));
        var history = TimelineHistory.ReadFile(Path.Combine(production.ArchiveDirectory, "00000002.history"));
        Assert.True(history.EndOf(1) is { } switchPoint && switchPoint >= from && switchPoint.Value < from.Value + segmentSize,
            $"the switch point {history.EndOf(1)} should fall inside {switchSegment}");

        var framings = 0;
        foreach (var options in new[] { new WalReaderOptions { History = history }, new WalReaderOptions(), new WalReaderOptions { Timeline = 2 } })
        foreach (var framed in new[] { false, true })
        {
            var commits = new List<(long Xid, string Lsn)>();
            var changes = new Dictionary<string, long>();
            var sources = files.Select(WalSegmentSource.FromFile).ToList();
            // The parallel path frames the copies the sequential reader chooses, with the same options.
            using var decoder = framed
                ? new ChangeDecoder(catalog.Snapshot, catalog.Locations,
                    SegmentFramer.Over(sources, options).FrameInOrder(WalRecordReader.ChooseSegments(sources, options)).Select(f =>
                    {
                        Interlocked.Increment(ref framings);
                        return f;
                    }), backupStart, readerOptions: options)
                : new ChangeDecoder(catalog.Snapshot, catalog.Locations, sources, backupStart, readerOptions: options);
            foreach (var transaction in decoder.Transactions())
            {
                var rows = transaction.Changes.OfType<RowChange>().ToList();
                if (transaction.CommitLsn < from || rows.Count == 0) continue;
                commits.Add((transaction.Xid, transaction.CommitLsn.ToString()));
                foreach (var row in rows)
                {
                    var kind = row.Kind switch { ChangeKind.Insert => "INSERT", ChangeKind.Update => "UPDATE", ChangeKind.Delete => "DELETE", _ => row.Kind.ToString() };
                    changes[kind] = changes.GetValueOrDefault(kind) + 1;
                }
            }

            Assert.Equal(expectedCommits, commits);
            Assert.Equal(expectedChanges.OrderBy(c => c.Key), changes.OrderBy(c => c.Key));
            Assert.Equal(2u, decoder.Timeline);
        }

        Assert.True(framings >= 3 * 2, $"only {framings} segments were framed");
    }

    private sealed record CatalogSnapshotAndLocations(DataSync.Wal.Catalog.CatalogSnapshot Snapshot, CatalogLocations Locations);

    private static async Task AssertSameAsync(EmbeddedProduction source, LocalCluster local, string table) =>
        Assert.Equal(await source.QueryScalarAsync<string>(Checksum(table)), await local.QueryScalarAsync<string>(Checksum(table)));

    private sealed class Recorder(List<string> lines) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (lines) lines.Add(value);
        }
    }
}
