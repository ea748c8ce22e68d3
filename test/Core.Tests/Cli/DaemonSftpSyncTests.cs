using System.Diagnostics;
using System.Text.RegularExpressions;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>
/// Acceptance for sftp sources: the daemon reads the WAL archive and the base backups from a real
/// OpenSSH server, the archive holding zstd-compressed segments and the backup in tar format, and the
/// local tables end md5-identical to production's, through a restart of the ssh server.
/// </summary>
public sealed partial class DaemonSftpSyncTests
{
    private const string Ddl = """
        CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2), doc jsonb);
        CREATE TABLE notes (id int PRIMARY KEY, item_id int REFERENCES items (id) ON DELETE CASCADE, body text);
        """;

    private static string Checksum(string table) => $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t";

    [Fact]
    public async Task Daemon_syncs_through_sftp_from_zstd_segments_and_a_tar_base_backup()
    {
        await using var ssh = await SshServer.StartAsync("daemon-sftp");
        await using var production = await ProductionCluster.StartAsync("daemon-sftp");
        await using var local = await LocalCluster.StartAsync("daemon-sftp");
        // The backup machine's archive: what an archive_command like 'zstd -q -o /archive/%f.zst %p' leaves.
        var zstdArchive = Path.Combine(production.Root, "zstd-archive");
        Directory.CreateDirectory(zstdArchive);

        await production.ExecuteAsync(Ddl + "INSERT INTO items SELECT g, 'i' || g, g, jsonb_build_object('g', g) FROM generate_series(1, 2000) g;");
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        Assert.True(File.Exists(Path.Combine(backup.Directory, "base.tar")));
        await production.ExecuteAsync("INSERT INTO notes SELECT g, g, repeat('n', g % 300) FROM generate_series(1, 500) g;");
        await production.SwitchSegmentAndWaitArchivedAsync();
        CompressNewSegments(production, zstdArchive);
        await local.ExecuteAsync(Ddl);

        var config = await TestConfig.WriteAsync(local, production, $"""
            DATA_SYNC_FREQ = 1
            SSH_KEY_FILE = "{ssh.UserKeyFile}"
            SSH_KNOWN_HOSTS = "{ssh.KnownHostsFile}"
            """);
        var text = await File.ReadAllTextAsync(config);
        text = ArchiveLine().Replace(text, $"ARCHIVE_DIR = \"{ssh.Url(zstdArchive)}\"");
        text = BackupLine().Replace(text, $"BASE_BACKUP_DIR = \"{ssh.Url(production.BackupDirectory)}\"");
        await File.WriteAllTextAsync(config, text);
        Assert.Contains("sftp://", text);
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items, notes")).ExitCode);

        var start = await CliRunner.RunAsync(config, "start");
        Assert.True(start.ExitCode == 0, start.Error + start.Out);
        var pid = int.Parse(PidPattern().Match(start.Out).Groups[1].Value);
        try
        {
            await WaitIdenticalAsync(production, local, zstdArchive);

            await production.ExecuteAsync("UPDATE items SET price = price * 2 WHERE id % 3 = 0");
            await production.ExecuteAsync("DELETE FROM items WHERE id % 10 = 0");
            await production.ExecuteAsync("INSERT INTO items SELECT g, 'late', NULL, NULL FROM generate_series(2001, 2600) g");
            await production.SwitchSegmentAndWaitArchivedAsync();
            CompressNewSegments(production, zstdArchive);
            await WaitIdenticalAsync(production, local, zstdArchive);

            // The backup machine's ssh server goes away for a while; the daemon reconnects and goes on.
            await ssh.StopAsync();
            await production.ExecuteAsync("UPDATE notes SET body = 'while ssh was down' WHERE id % 7 = 0");
            await production.SwitchSegmentAndWaitArchivedAsync();
            CompressNewSegments(production, zstdArchive);
            await Task.Delay(2500);
            await ssh.StartAgainAsync();
            await WaitIdenticalAsync(production, local, zstdArchive);

            var failed = await local.QueryScalarAsync<string>(
                "SELECT coalesce(string_agg(table_name || ' | ' || error_detail, E'\\n' ORDER BY sync_time), '') FROM data_sync_logs WHERE status = 'FAILED'");
            Assert.True(failed == "", failed);
            Assert.Equal(2L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'BOOTSTRAP'"));
            Assert.All(Directory.EnumerateFiles(zstdArchive), f => Assert.EndsWith(".zst", f));
            var state = Path.Combine(local.Root, "state");
            // The downloaded tar was removed once the bootstrap was done.
            Assert.Empty(Directory.Exists(Path.Combine(state, "base-backups")) ? Directory.EnumerateFileSystemEntries(Path.Combine(state, "base-backups")) : []);
            var log = await File.ReadAllTextAsync(Path.Combine(state, "logs", "datasync.log"));
            var secret = (await File.ReadAllLinesAsync(ssh.UserKeyFile))[1];
            Assert.DoesNotContain(secret, log);
            Assert.Contains($"sftp connection to 127.0.0.1:{ssh.Port} made again", log);

            var stop = await CliRunner.RunAsync(config, "stop");
            Assert.True(stop.ExitCode == 0, stop.Error);
        }
        finally
        {
            if (Processes.IsRunning(pid)) Process.GetProcessById(pid).Kill();
        }
    }

    /// <summary>Compresses every archived segment not yet on the backup machine, written under a temporary name and renamed.</summary>
    private static void CompressNewSegments(ProductionCluster production, string zstdArchive)
    {
        foreach (var segment in production.ArchivedSegments())
        {
            var target = Path.Combine(zstdArchive, Path.GetFileName(segment) + ".zst");
            if (File.Exists(target)) continue;
            using (var output = File.Create(target + ".tmp"))
            using (var compressor = new ZstdSharp.CompressionStream(output, 3))
            using (var input = File.OpenRead(segment))
            {
                input.CopyTo(compressor);
            }

            File.Move(target + ".tmp", target);
        }
    }

    private static async Task WaitIdenticalAsync(ProductionCluster production, LocalCluster local, string zstdArchive)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            var same = true;
            foreach (var table in new[] { "items", "notes" })
                same &= await production.QueryScalarAsync<string>(Checksum(table)) == await local.QueryScalarAsync<string>(Checksum(table));
            if (same) return;
            if (DateTime.UtcNow > deadline)
            {
                var logFile = Path.Combine(local.Root, "state", "logs", "datasync.log");
                var tail = File.Exists(logFile) ? string.Join('\n', File.ReadLines(logFile).TakeLast(40)) : "(no log)";
                Assert.Fail($"the local tables did not become identical to production within 120 s; archive: {string.Join(", ", Directory.EnumerateFiles(zstdArchive).Select(Path.GetFileName))}\ndaemon log:\n{tail}");
            }

            await Task.Delay(500);
        }
    }

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();

    [GeneratedRegex("^ARCHIVE_DIR = .*$", RegexOptions.Multiline)]
    private static partial Regex ArchiveLine();

    [GeneratedRegex("^BASE_BACKUP_DIR = .*$", RegexOptions.Multiline)]
    private static partial Regex BackupLine();
}
