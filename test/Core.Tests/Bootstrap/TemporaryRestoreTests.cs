using System.IO.Compression;
using DataSync.Core.Bootstrap;
using DataSync.Core.Embedded;
using DataSync.Embedded;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>Base backup + archive → paused temporary restore → table copied locally, identical to production at that point.</summary>
public sealed class TemporaryRestoreTests
{
    private const string Ddl = "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, payload text, price numeric(10,2), tags text[])";
    private const string Checksum = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM items t";

    [Theory]
    [InlineData(BaseBackupFormat.Plain, false)]
    [InlineData(BaseBackupFormat.Tar, true)]
    public async Task Restore_pauses_after_the_archive_and_copies_production_rows(BaseBackupFormat format, bool gzip)
    {
        var name = $"restore-{format}-{gzip}";
        await using var production = await ProductionCluster.StartAsync(name);
        await using var local = await LocalCluster.StartAsync(name);
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'item ' || g, repeat(md5(g::text), 200), g * 1.5, ARRAY['a', g::text] FROM generate_series(1, 2000) g");
        var backup = await production.TakeBaseBackupAsync(format);
        if (gzip) GzipTar(backup.Directory);

        await production.ExecuteAsync("UPDATE items SET price = price * 2 WHERE id % 3 = 0; DELETE FROM items WHERE id % 7 = 0; INSERT INTO items SELECT g, 'late ' || g, NULL, NULL, NULL FROM generate_series(2001, 2500) g");
        // A transaction still open when the archive ends: its rows must not be in the copy, and its xid must be reported in progress.
        await using var open = await production.Server.OpenAsync(ProductionCluster.Database);
        await using var openTransaction = await open.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO items VALUES (9999, 'uncommitted', NULL, NULL, NULL)", open, openTransaction))
            await insert.ExecuteNonQueryAsync();
        var openXid = ulong.Parse((string)(await new NpgsqlCommand("SELECT pg_current_xact_id()::text", open, openTransaction).ExecuteScalarAsync())!);
        var expected = await production.QueryScalarAsync<string>(Checksum);
        var lastSegment = await production.SwitchSegmentAndWaitArchivedAsync();
        var target = new Lsn((Convert.ToUInt64(lastSegment[8..16], 16) * 0x100 + Convert.ToUInt64(lastSegment[16..], 16) + 1) * 16 * 1024 * 1024);

        var (binaries, account) = await TestPostgres.GetAsync();
        var state = Path.Combine(local.Root, "state");
        var progress = new List<string>();
        var found = BaseBackup.FindAll(production.BackupDirectory);
        var chosen = Assert.Single(found);
        Assert.Equal(backup.StartLsn, chosen.Label.StartLsn);
        Assert.Equal(gzip ? BaseBackupLayout.TarGzip : format == BaseBackupFormat.Tar ? BaseBackupLayout.Tar : BaseBackupLayout.Plain, chosen.Layout);

        string restoreRoot;
        await using (var restore = await TemporaryRestore.StartAsync(new TemporaryRestoreOptions
        {
            Binaries = binaries,
            Account = account,
            StateDirectory = state,
            Backup = chosen,
            WalDirectory = production.ArchiveDirectory,
            TargetLsn = target,
            Progress = new SynchronousProgress(progress),
        }))
        {
            restoreRoot = restore.Root;
            Assert.True(restore.Snapshot.ReplayLsn >= target, $"replay {restore.Snapshot.ReplayLsn} < target {target}");
            Assert.True(restore.Snapshot.Excludes(openXid), $"open xid {openXid} would be in the copy (xmax {restore.Snapshot.Xmax})");

            await local.ExecuteAsync(Ddl);
            await using var source = await restore.OpenAsync(ProductionCluster.Database);
            await using var destination = await local.Server.OpenAsync(LocalCluster.Database);
            var table = new TableName("public", "items");
            var columns = await TableCopier.CopyableColumnsAsync(source, table, CancellationToken.None);
            Assert.Equal(["id", "name", "payload", "price", "tags"], columns);
            var rows = await TableCopier.CopyAsync(source, destination, table, columns, freeze: false, CancellationToken.None);

            Assert.Equal(await production.QueryScalarAsync<long>("SELECT count(*) FROM items"), rows);
            Assert.Equal(expected, await local.QueryScalarAsync<string>(Checksum));
        }

        Assert.False(Directory.Exists(restoreRoot), "the restore folder was not removed");
        Assert.Contains(progress, p => p.StartsWith("restored ", StringComparison.Ordinal));
        Assert.Contains(progress, p => p.StartsWith("replay paused at ", StringComparison.Ordinal));
        await openTransaction.RollbackAsync();
    }

    [Fact]
    public async Task Leftover_restores_of_a_dead_process_are_stopped_and_removed()
    {
        var (binaries, account) = await TestPostgres.GetAsync();
        var state = TestPostgres.NewClusterRoot("leftover-restore");
        try
        {
            // A restore folder claimed by a process that no longer exists, with a running server in it.
            var root = Path.Combine(TemporaryRestore.RestoresFolder(state), "restore-dead");
            Directory.CreateDirectory(root);
            await File.WriteAllTextAsync(Path.Combine(root, LeftoverServers.OwnerFile), "999999999");
            var server = new PostgresServer(new PostgresServerOptions { Binaries = binaries, Account = account, DataDirectory = Path.Combine(root, "data"), Port = PostgresServer.FindFreePort() });
            File.SetUnixFileMode(state, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(TemporaryRestore.RestoresFolder(state), (UnixFileMode)0b111_101_101);
            await server.InitAsync();
            await server.StartAsync();
            var pid = int.Parse(File.ReadLines(Path.Combine(root, "data", "postmaster.pid")).First());

            var removed = await TemporaryRestore.RemoveLeftoversAsync(state, binaries, account);

            Assert.Equal([root], removed);
            Assert.False(Directory.Exists(root));
            Assert.False(Processes.IsRunning(pid), "the left-over server is still running");
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    private static void GzipTar(string backupDirectory)
    {
        var tar = Path.Combine(backupDirectory, "base.tar");
        using (var input = File.OpenRead(tar))
        using (var output = new GZipStream(File.Create(tar + ".gz"), CompressionLevel.Fastest))
            input.CopyTo(output);
        File.Delete(tar);
    }

    private sealed class SynchronousProgress(List<string> lines) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (lines) lines.Add(value);
        }
    }
}
