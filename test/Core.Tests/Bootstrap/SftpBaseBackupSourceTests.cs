using System.Formats.Tar;
using DataSync.Core.Archive.Sftp;
using DataSync.Core.Bootstrap;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>Finding and downloading the newest base backup from a real OpenSSH server.</summary>
public sealed class SftpBaseBackupSourceTests
{
    private static string Label(int segment) => $"""
        START WAL LOCATION: 0/{segment:X}000028 (file 0000000100000000000000{segment:X2})
        CHECKPOINT LOCATION: 0/{segment:X}000080
        BACKUP METHOD: streamed
        BACKUP FROM: primary
        START TIME: 2026-11-25 10:00:00 UTC
        LABEL: test {segment}
        START TIMELINE: 1

        """;

    [Fact]
    public async Task Downloads_the_newest_backup_plain_or_tar_and_removes_copies_it_no_longer_needs()
    {
        await using var ssh = await SshServer.StartAsync("sftp-backups");
        var backups = Path.Combine(ssh.Root, "backups");
        // An old tar whose label comes after a large file (the reader skips it), a newer zstd tar (newest by label, not by name), and a folder that is no backup.
        await WriteTarAsync(Path.Combine(backups, "z-older"), "base.tar", ("global/pg_control", new byte[3 << 20]), ("backup_label", System.Text.Encoding.UTF8.GetBytes(Label(3))), ("PG_VERSION", "18\n"u8.ToArray()));
        await WriteTarAsync(Path.Combine(backups, "a-newer"), "base.tar.zst", ("backup_label", System.Text.Encoding.UTF8.GetBytes(Label(5))), ("PG_VERSION", "18\n"u8.ToArray()), ("base/5/1259", new byte[8192]));
        Directory.CreateDirectory(Path.Combine(backups, "notes"));
        await File.WriteAllTextAsync(Path.Combine(backups, "notes", "README"), "not a backup");

        var state = Path.Combine(ssh.Root, "state");
        Directory.CreateDirectory(Path.Combine(state, "base-backups", "backup-000.downloading"));
        await using var source = new SftpBaseBackupSource(
            new SftpConnection(SftpLocation.Parse(ssh.Url(backups)), ssh.UserKeyFile, ssh.KnownHostsFile), state);
        Assert.False(Directory.Exists(Path.Combine(state, "base-backups")), "a download left by an earlier run is removed at start");

        var newest = await source.NewestAsync(CancellationToken.None);
        Assert.Equal(BaseBackupLayout.TarZstd, newest.Layout);
        Assert.Equal("a-newer", newest.Name);
        Assert.Equal(Path.Combine(state, "base-backups", "a-newer"), newest.Directory);
        Assert.Equal("000000010000000000000005", newest.Label.StartSegment);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(backups, "a-newer", "base.tar.zst")), await File.ReadAllBytesAsync(Path.Combine(newest.Directory, "base.tar.zst")));
        var extracted = Path.Combine(ssh.Root, "extracted");
        newest.ExtractTo(extracted);
        Assert.Equal(8192, new FileInfo(Path.Combine(extracted, "base", "5", "1259")).Length);

        // Asked again (the bootstrap waits for WAL): the same copy, not a second download.
        var stamp = File.GetLastWriteTimeUtc(Path.Combine(newest.Directory, "base.tar.zst"));
        await Task.Delay(20);
        Assert.Equal(newest.Directory, (await source.NewestAsync(CancellationToken.None)).Directory);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(Path.Combine(newest.Directory, "base.tar.zst")));

        // A newer plain backup: its files come down without pg_wal's contents, and the older copy goes.
        var plain = Path.Combine(backups, "backup-003");
        Directory.CreateDirectory(Path.Combine(plain, "base", "5"));
        Directory.CreateDirectory(Path.Combine(plain, "pg_wal", "archive_status"));
        await File.WriteAllTextAsync(Path.Combine(plain, "backup_label"), Label(9));
        await File.WriteAllBytesAsync(Path.Combine(plain, "base", "5", "1259"), Enumerable.Range(0, 20000).Select(i => (byte)i).ToArray());
        await File.WriteAllBytesAsync(Path.Combine(plain, "pg_wal", "000000010000000000000009"), new byte[1 << 20]);
        var latest = await source.NewestAsync(CancellationToken.None);
        Assert.Equal(BaseBackupLayout.Plain, latest.Layout);
        Assert.Equal("000000010000000000000009", latest.Label.StartSegment);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(plain, "base", "5", "1259")), await File.ReadAllBytesAsync(Path.Combine(latest.Directory, "base", "5", "1259")));
        Assert.True(Directory.Exists(Path.Combine(latest.Directory, "pg_wal")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(latest.Directory, "pg_wal")));
        Assert.Equal(["backup-003"], Directory.EnumerateDirectories(Path.Combine(state, "base-backups")).Select(Path.GetFileName));

        source.Release(latest);
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(state, "base-backups")));
    }

    [Fact]
    public async Task Brings_a_tar_backups_tablespace_tars_and_manifest_and_skips_a_backup_whose_label_is_garbage()
    {
        await using var ssh = await SshServer.StartAsync("sftp-tablespaces");
        var backups = Path.Combine(ssh.Root, "backups");
        var bad = Path.Combine(backups, "z-garbage");
        Directory.CreateDirectory(bad);
        await File.WriteAllTextAsync(Path.Combine(bad, "backup_label"), "START WAL LOCATION: nonsense\n");

        var good = Path.Combine(backups, "a-tar");
        var label = System.Text.Encoding.UTF8.GetBytes(Label(5));
        var map = "16400 /srv/production/fast space\n"u8.ToArray();
        var relation = Enumerable.Range(0, 8192).Select(i => (byte)i).ToArray();
        await WriteTarAsync(good, "base.tar", ("backup_label", label), ("PG_VERSION", "18\n"u8.ToArray()), ("tablespace_map", map));
        await WriteTarAsync(good, "16400.tar", ("PG_18_202506291/5/16401", relation));
        await File.WriteAllTextAsync(Path.Combine(good, "backup_manifest"), HostileBackupTests.Manifest(
            ("backup_label", label), ("PG_VERSION", "18\n"u8.ToArray()), ("tablespace_map", map), ("pg_tblspc/16400/PG_18_202506291/5/16401", relation)));
        await File.WriteAllBytesAsync(Path.Combine(good, "notes.bin"), new byte[1 << 20]);

        var notices = new List<string>();
        var state = Path.Combine(ssh.Root, "state");
        await using var source = new SftpBaseBackupSource(
            new SftpConnection(SftpLocation.Parse(ssh.Url(backups)), ssh.UserKeyFile, ssh.KnownHostsFile), state, new ListProgress(notices));
        var newest = await source.NewestAsync(CancellationToken.None);
        await source.NewestAsync(CancellationToken.None);
        Assert.Equal("a-tar", newest.Name);
        Assert.Equal(["16400.tar", "backup_manifest", "base.tar"], Directory.EnumerateFiles(newest.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Contains("z-garbage", Assert.Single(notices));

        var restore = Path.Combine(ssh.Root, "restore");
        newest.ExtractTo(Path.Combine(restore, "data"));
        var link = new DirectoryInfo(Path.Combine(restore, "data", "pg_tblspc", "16400"));
        Assert.Equal(Path.Combine(restore, "tablespaces", "16400"), link.LinkTarget);
        Assert.Equal(relation, await File.ReadAllBytesAsync(Path.Combine(link.FullName, "PG_18_202506291", "5", "16401")));
        Assert.False(File.Exists(Path.Combine(restore, "data", "tablespace_map")));
    }

    [Fact]
    public async Task Brings_a_plain_backups_tablespaces_through_their_pg_tblspc_links_and_refuses_a_link_to_anything_else()
    {
        await using var ssh = await SshServer.StartAsync("sftp-plain-tablespace");
        var backups = Path.Combine(ssh.Root, "backups");
        var plain = Path.Combine(backups, "plain");
        Directory.CreateDirectory(Path.Combine(plain, "pg_tblspc"));
        await File.WriteAllTextAsync(Path.Combine(plain, "backup_label"), Label(5));
        // pg_basebackup -Fp writes a tablespace to its (mapped) location and links pg_tblspc/<oid> to it.
        var location = Path.Combine(ssh.Root, "tablespace-location");
        var relation = Enumerable.Range(0, 8192).Select(i => (byte)(i * 3)).ToArray();
        Directory.CreateDirectory(Path.Combine(location, "PG_18_202506291", "5"));
        await File.WriteAllBytesAsync(Path.Combine(location, "PG_18_202506291", "5", "16401"), relation);
        Directory.CreateSymbolicLink(Path.Combine(plain, "pg_tblspc", "16400"), location);

        var state = Path.Combine(ssh.Root, "state");
        await using var source = new SftpBaseBackupSource(
            new SftpConnection(SftpLocation.Parse(ssh.Url(backups)), ssh.UserKeyFile, ssh.KnownHostsFile), state);
        var newest = await source.NewestAsync(CancellationToken.None);
        var restore = Path.Combine(ssh.Root, "restore");
        newest.ExtractTo(Path.Combine(restore, "data"));
        Assert.Equal(relation, await File.ReadAllBytesAsync(Path.Combine(restore, "data", "pg_tblspc", "16400", "PG_18_202506291", "5", "16401")));
        Assert.Equal(Path.Combine(restore, "tablespaces", "16400"), new DirectoryInfo(Path.Combine(restore, "data", "pg_tblspc", "16400")).LinkTarget);
        Assert.False(Directory.Exists(Path.Combine(restore, "data", ".datasync-tablespaces")));
        source.Release(newest);

        // A newer backup whose pg_tblspc link leads to a folder that is no tablespace (here: the server's /etc) is refused.
        var hostile = Path.Combine(backups, "z-hostile");
        Directory.CreateDirectory(Path.Combine(hostile, "pg_tblspc"));
        await File.WriteAllTextAsync(Path.Combine(hostile, "backup_label"), Label(9));
        Directory.CreateSymbolicLink(Path.Combine(hostile, "pg_tblspc", "16500"), "/etc");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => source.NewestAsync(CancellationToken.None));
        Assert.Contains("tablespace 16500", error.Message);
        Assert.Contains("refused", error.Message);
        Assert.False(File.Exists(Path.Combine(state, "base-backups", "z-hostile.downloading", ".datasync-tablespaces", "16500", "passwd")));
    }

    private sealed class ListProgress(List<string> lines) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (lines) lines.Add(value);
        }
    }

    private static async Task WriteTarAsync(string folder, string fileName, params (string Name, byte[] Data)[] entries)
    {
        Directory.CreateDirectory(folder);
        await using var file = File.Create(Path.Combine(folder, fileName));
        await using Stream output = fileName.EndsWith(".zst", StringComparison.Ordinal) ? new ZstdSharp.CompressionStream(file, 3) : file;
        await using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var (name, data) in entries)
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };
            await writer.WriteEntryAsync(entry);
        }
    }
}
