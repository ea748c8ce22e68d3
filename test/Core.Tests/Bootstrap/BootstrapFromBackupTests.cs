using System.Text.RegularExpressions;
using DataSync.Core.Archive;
using DataSync.Core.Configuration;
using DataSync.Embedded;
using DataSync.Core.Sync;
using DataSync.Core.Tests.Cli;
using DataSync.Core.Tests.Sync;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>
/// Bootstraps from what production's backup machine holds, whatever production looks like: quiet since the
/// backup, backed up on a standby, or with WAL still missing from the archive (a wait that is logged once,
/// retried with backoff and shown by status, without restoring the backup again and again).
/// </summary>
public sealed partial class BootstrapFromBackupTests
{
    private const string Ddl = "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2))";
    private const string Checksum = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM items t";

    [Fact]
    public async Task A_production_quiet_since_the_backup_bootstraps_from_the_backup_and_its_history_file_alone()
    {
        await using var production = await ProductionCluster.StartAsync("idle-after-backup");
        await using var local = await LocalCluster.StartAsync("idle-after-backup");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 3000) g");
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);

        // Nothing was archived after the backup's own segment: the archive ends with it and its .backup file.
        var stopSegment = Assert.Single(production.ArchivedSegments(), s => string.CompareOrdinal(Path.GetFileName(s), SegmentOf(backup.StartLsn)) >= 0);
        Assert.Equal(SegmentOf(backup.StopLsn), Path.GetFileName(stopSegment));
        Assert.Single(Directory.EnumerateFiles(production.ArchiveDirectory, "*.backup"));

        await local.ExecuteAsync(Ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "items");
        var progress = new ProgressRecorder();
        await using var engine = await EngineAsync(local, production, dataSource, progress);

        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.True(first.TablesBootstrapped.SequenceEqual(["public.items"]), string.Join("\n", progress.Lines));
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));

        // Sync goes on from there once production writes again.
        await production.ExecuteAsync("UPDATE items SET price = price * 2 WHERE id % 3 = 0; DELETE FROM items WHERE id % 7 = 0; INSERT INTO items VALUES (5000, 'late', 1)");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
    }

    [Fact]
    public async Task A_backup_history_file_compressed_by_archive_command_gives_the_backups_end()
    {
        await using var production = await ProductionCluster.StartAsync("gz-backup-history");
        await using var local = await LocalCluster.StartAsync("gz-backup-history");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 2000) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);

        // As a gzip-ing archive_command would have stored it; the backup has no manifest, and nothing was archived after it.
        var history = Assert.Single(Directory.EnumerateFiles(production.ArchiveDirectory, "*.backup"));
        await using (var input = File.OpenRead(history))
        await using (var output = new System.IO.Compression.GZipStream(File.Create(history + ".gz"), System.IO.Compression.CompressionLevel.Fastest))
            await input.CopyToAsync(output);
        File.Delete(history);

        await local.ExecuteAsync(Ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "items");
        var progress = new ProgressRecorder();
        await using var engine = await EngineAsync(local, production, dataSource, progress);
        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.True(first.TablesBootstrapped.SequenceEqual(["public.items"]), string.Join("\n", progress.Lines) + first.Bootstrap?.Message);
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));
    }

    [Fact]
    public async Task A_base_backup_taken_on_a_standby_bootstraps()
    {
        await using var production = await ProductionCluster.StartAsync("standby-backup");
        await using var local = await LocalCluster.StartAsync("standby-backup");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 2000) g");
        var seed = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await using var standby = await StandbyCluster.StartAsync(production, seed);
        Directory.Delete(seed.Directory, recursive: true);

        // A checkpoint the standby replays gives its backup a start of its own (its restart point).
        await production.ExecuteAsync("UPDATE items SET name = 'changed' WHERE id <= 100; CHECKPOINT");
        await standby.WaitReplayedAsync(await production.QueryScalarAsync<string>("SELECT pg_current_wal_lsn()::text"));
        var backup = await LowLevelBaseBackup.TakeAsync(standby.Server, Path.Combine(production.BackupDirectory, "from-standby"), BaseBackupFormat.Tar);
        await production.ExecuteAsync("INSERT INTO items SELECT g, 'after', NULL FROM generate_series(3001, 3100) g");
        // The standby's backup is consistent at its minimum recovery point, which the segment archived now covers.
        await production.SwitchSegmentAndWaitArchivedAsync();
        Assert.DoesNotContain(Directory.EnumerateFiles(production.ArchiveDirectory), f => f.EndsWith(".backup", StringComparison.Ordinal) &&
            Path.GetFileName(f).StartsWith(SegmentOf(backup.StartLsn), StringComparison.Ordinal));

        await local.ExecuteAsync(Ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "items");
        var progress = new ProgressRecorder();
        await using var engine = await EngineAsync(local, production, dataSource, progress);
        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.True(first.TablesBootstrapped.SequenceEqual(["public.items"]), string.Join("\n", progress.Lines));
        await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));
    }

    [Fact]
    public async Task While_the_backups_WAL_is_not_archived_the_bootstrap_waits_once_without_restoring_and_resumes_when_it_is()
    {
        await using var production = await ProductionCluster.StartAsync("wal-not-archived");
        await using var local = await LocalCluster.StartAsync("wal-not-archived");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 1000) g");
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.ExecuteAsync("INSERT INTO items VALUES (2000, 'after', 2)");
        await production.SwitchSegmentAndWaitArchivedAsync();

        // The archiver is behind: the backup's segment, its history file and what follows have not reached the backup machine yet.
        var held = Path.Combine(production.Root, "held-back");
        Directory.CreateDirectory(held);
        var startSegment = SegmentOf(backup.StartLsn);
        foreach (var file in Directory.EnumerateFiles(production.ArchiveDirectory).Where(f => string.CompareOrdinal(Path.GetFileName(f), startSegment) >= 0))
            File.Move(file, Path.Combine(held, Path.GetFileName(file)));

        await local.ExecuteAsync(Ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "items");
        var progress = new ProgressRecorder();
        var firstPause = TimeSpan.FromSeconds(2);
        await using var engine = await EngineAsync(local, production, dataSource, progress, firstPause);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var linesAtHalf = -1;
        while (clock.Elapsed < TimeSpan.FromSeconds(14))
        {
            var cycle = await engine.RunCycleAsync(CancellationToken.None);
            Assert.Empty(cycle.TablesBootstrapped);
            Assert.NotNull(cycle.Bootstrap);
            if (linesAtHalf < 0 && clock.Elapsed > TimeSpan.FromSeconds(7)) linesAtHalf = progress.Lines.Count;
            await Task.Delay(100);
        }

        // One line for the cause, and the log stays as it is while the wait goes on.
        var told = Assert.Single(progress.Lines, l => l.StartsWith("bootstrap waits:", StringComparison.Ordinal));
        Assert.Contains(startSegment, told);
        Assert.Equal(linesAtHalf, progress.Lines.Count);
        Assert.DoesNotContain(progress.Lines, l => l.StartsWith("restoring base backup", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(local.Root, "state", "restores")) &&
            Directory.EnumerateDirectories(Path.Combine(local.Root, "state", "restores")).Any(), "a restore was made or left behind");

        // Exactly one FAILED row names the cause; the attempts are counted in the table's status, spaced by the backoff:
        // pauses of 2, 4, 8 s (less 20 % jitter) leave room for at most 4 attempts in 14 s.
        var failed = await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED' AND table_name = 'public.items'");
        Assert.Equal(1L, failed);
        Assert.Contains(startSegment, await local.QueryScalarAsync<string>("SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED'"));
        var detail = await local.QueryScalarAsync<string>("SELECT error_detail FROM datasync_table_state WHERE table_name = 'public.items'");
        var attempts = int.Parse(AttemptsPattern().Match(detail).Groups[1].Value);
        Assert.InRange(attempts, 2, 4);

        var config = await TestConfig.WriteAsync(local, production);
        var status = await CliRunner.RunAsync(config, "status");
        Assert.Contains($"bootstrap: public.items: bootstrap waiting since ", status.Out);
        Assert.Contains(startSegment, status.Out);

        // The archiver catches up: the next attempt the backoff allows bootstraps, and the status line goes.
        foreach (var file in Directory.EnumerateFiles(held)) File.Move(file, Path.Combine(production.ArchiveDirectory, Path.GetFileName(file)));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await engine.RunCycleAsync(CancellationToken.None)).TablesBootstrapped.Contains("public.items"))
        {
            Assert.True(DateTime.UtcNow < deadline, string.Join("\n", progress.Lines));
            await Task.Delay(250);
        }

        await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));
        Assert.DoesNotContain("bootstrap:", (await CliRunner.RunAsync(config, "status")).Out);
    }

    [Fact]
    public async Task A_restore_that_cannot_start_fails_with_the_servers_own_reason_once()
    {
        await using var production = await ProductionCluster.StartAsync("restore-no-start");
        await using var local = await LocalCluster.StartAsync("restore-no-start");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items VALUES (1, 'one', 1)");
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        // A backup the server refuses (made by another major version, as it claims), and only its log says why.
        await File.WriteAllTextAsync(Path.Combine(backup.Directory, "PG_VERSION"), "17\n");

        await local.ExecuteAsync(Ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "items");
        var progress = new ProgressRecorder();
        await using var engine = await EngineAsync(local, production, dataSource, progress, TimeSpan.FromSeconds(1));
        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(BootstrapResult.Failed, first.Bootstrap?.Result);
        Assert.True(first.Bootstrap!.Message!.Contains("initialized by PostgreSQL version 17", StringComparison.Ordinal), first.Bootstrap.Message);
        await Task.Delay(2500);
        await engine.RunCycleAsync(CancellationToken.None);

        var rows = await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'");
        Assert.Equal(1L, rows);
        Assert.Contains("initialized by PostgreSQL version 17", await local.QueryScalarAsync<string>("SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED'"));
        Assert.Matches(@"2 attempt\(s\)", await local.QueryScalarAsync<string>("SELECT error_detail FROM datasync_table_state WHERE table_name = 'public.items'"));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(local.Root, "state", "restores")));
    }

    private static string SegmentOf(DataSync.Wal.Lsn parsed)
    {
        return DataSync.Wal.Segments.WalSegmentName.Format(1, (parsed.Value - 1) / (16 * 1024 * 1024), 16 * 1024 * 1024);
    }

    private static async Task<SyncEngine> EngineAsync(LocalCluster local, ProductionCluster production, NpgsqlDataSource dataSource, IProgress<string> progress,
        TimeSpan? firstPause = null)
    {
        var settings = EngineSetup.Settings(local, production);
        var (binaries, account) = await TestPostgres.GetAsync();
        return new SyncEngine(new SyncOptions
        {
            Settings = settings, Archive = new LocalArchiveSource(settings.ArchiveDir), Binaries = binaries, Account = account, Progress = progress,
            BootstrapFirstPause = firstPause ?? TimeSpan.FromSeconds(5),
        }, dataSource);
    }

    [GeneratedRegex(@"(\d+) attempt\(s\)")]
    private static partial Regex AttemptsPattern();
}
