using System.Buffers.Binary;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using DataSync.Core.Bootstrap;
using DataSync.Wal.Checksums;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>
/// Base backups built to attack the restore: entries that would land outside it, links out, labels that inflate,
/// a manifest that does not match. Each is refused with an error naming the file, nothing is written outside the
/// destination (checked on disk), and a bad backup does not keep a good one from being used.
/// </summary>
public sealed class HostileBackupTests : IDisposable
{
    private const string Label = """
        START WAL LOCATION: 0/5000028 (file 000000010000000000000005)
        CHECKPOINT LOCATION: 0/5000080
        BACKUP METHOD: streamed
        BACKUP FROM: primary
        START TIME: 2026-11-25 10:00:00 UTC
        LABEL: hostile
        START TIMELINE: 1

        """;

    private readonly string _root = Directory.CreateTempSubdirectory("datasync-hostile-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Outside => Path.Combine(_root, "outside");

    public static TheoryData<string> EscapingEntries => new() { "absolute", "dotdot", "symlink", "hardlink", "dotdot-dir" };

    [Theory]
    [MemberData(nameof(EscapingEntries))]
    public async Task A_tar_entry_that_leads_outside_the_restore_is_refused_and_nothing_lands_outside(string kind)
    {
        Directory.CreateDirectory(Outside);
        var folder = Path.Combine(_root, "backups", "b1");
        Directory.CreateDirectory(folder);
        await using (var file = File.Create(Path.Combine(folder, "base.tar.gz")))
        await using (var gzip = new GZipStream(file, CompressionLevel.Fastest))
        await using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            await writer.WriteEntryAsync(Entry("backup_label", Encoding.UTF8.GetBytes(Label)));
            await writer.WriteEntryAsync(Entry("PG_VERSION", "18\n"u8.ToArray()));
            switch (kind)
            {
                case "absolute":
                    await writer.WriteEntryAsync(Entry(Path.Combine(Outside, "cron-job"), "* * * * * root evil\n"u8.ToArray()));
                    break;
                case "dotdot":
                    await writer.WriteEntryAsync(Entry("base/../../outside/cron-job", "evil"u8.ToArray()));
                    break;
                case "dotdot-dir":
                    await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "../outside/made-dir"));
                    break;
                case "symlink":
                    await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "global/escape") { LinkName = Outside });
                    await writer.WriteEntryAsync(Entry("global/escape/cron-job", "evil"u8.ToArray()));
                    break;
                case "hardlink":
                    await File.WriteAllTextAsync(Path.Combine(Outside, "secret"), "production secret");
                    await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.HardLink, "global/secret") { LinkName = Path.Combine(Outside, "secret") });
                    break;
            }
        }

        var backup = Assert.Single(BaseBackup.FindAll(Path.Combine(_root, "backups")));
        var destination = Path.Combine(_root, "restore", "data");
        var error = Assert.Throws<InvalidDataException>(() => backup.ExtractTo(destination));
        Assert.Contains(Path.Combine(folder, "base.tar.gz"), error.Message);
        Assert.Contains("refused", error.Message);
        Assert.Equal(kind == "hardlink" ? ["secret"] : [], Directory.EnumerateFileSystemEntries(Outside).Select(Path.GetFileName));
        Assert.False(File.Exists(Path.Combine(destination, "global", "secret")));
    }

    [Fact]
    public async Task A_tar_entry_claiming_more_than_a_relation_segment_is_refused_before_anything_of_it_is_written()
    {
        var folder = Path.Combine(_root, "backups", "huge");
        Directory.CreateDirectory(folder);
        await using (var file = File.Create(Path.Combine(folder, "base.tar")))
        {
            var label = Encoding.UTF8.GetBytes(Label);
            await file.WriteAsync(UstarHeader("backup_label", label.Length));
            await file.WriteAsync(label);
            await file.WriteAsync(new byte[512 - label.Length % 512]);
            // A header saying 4 GiB follows; the data never comes (a compressed tar would make it from a few KiB).
            await file.WriteAsync(UstarHeader("base/5/16384", 4L << 30));
        }

        var destination = Path.Combine(_root, "restore", "data");
        var error = Assert.Throws<InvalidDataException>(() => BaseBackup.TryOpen(folder)!.ExtractTo(destination));
        Assert.Contains("'base/5/16384' claims 4294967296 bytes", error.Message);
        Assert.False(File.Exists(Path.Combine(destination, "base", "5", "16384")));
    }

    /// <summary>A ustar header block for a regular file of <paramref name="size"/> bytes (sizes are octal text, checksum over the block).</summary>
    private static byte[] UstarHeader(string name, long size)
    {
        var block = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(block, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(block, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(block, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(block, 116);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(block, 124);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(block, 136);
        block[156] = (byte)'0';
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(block, 257);
        "        "u8.CopyTo(block.AsSpan(148));
        var sum = block.Sum(b => (int)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(block, 148);
        return block;
    }

    [Fact]
    public async Task A_plain_backup_with_a_link_out_is_refused_and_a_tablespace_link_to_a_non_tablespace_too()
    {
        Directory.CreateDirectory(Outside);
        await File.WriteAllTextAsync(Path.Combine(Outside, "passwd"), "root:x:0:0");
        var folder = PlainBackup("linked");
        Directory.CreateDirectory(Path.Combine(folder, "base", "5"));
        File.CreateSymbolicLink(Path.Combine(folder, "base", "5", "1259"), Path.Combine(Outside, "passwd"));
        var destination = Path.Combine(_root, "restore", "data");
        var error = Assert.Throws<InvalidDataException>(() => BaseBackup.TryOpen(folder)!.ExtractTo(destination));
        Assert.Contains(Path.Combine(folder, "base", "5", "1259"), error.Message);
        Assert.False(File.Exists(Path.Combine(destination, "base", "5", "1259")));

        var tablespaced = PlainBackup("tablespaced");
        Directory.CreateDirectory(Path.Combine(tablespaced, "pg_tblspc"));
        Directory.CreateSymbolicLink(Path.Combine(tablespaced, "pg_tblspc", "16400"), Outside);
        var second = Path.Combine(_root, "restore2", "data");
        error = Assert.Throws<InvalidDataException>(() => BaseBackup.TryOpen(tablespaced)!.ExtractTo(second));
        Assert.Contains("tablespace 16400", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_root, "restore2", "tablespaces", "16400")) &&
                     Directory.EnumerateFileSystemEntries(Path.Combine(_root, "restore2", "tablespaces", "16400")).Any());
    }

    [Fact]
    public async Task Labels_that_inflate_or_do_not_parse_are_skipped_reported_once_and_the_good_backup_is_used()
    {
        var backups = Path.Combine(_root, "backups");
        // A gzip bomb: a few KiB on disk, 200 MiB of label inside.
        var bomb = Path.Combine(backups, "a-bomb");
        Directory.CreateDirectory(bomb);
        await using (var file = File.Create(Path.Combine(bomb, "base.tar.gz")))
        await using (var gzip = new GZipStream(file, CompressionLevel.SmallestSize))
        await using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "backup_label") { DataStream = new ZeroStream(200L << 20) });
        Assert.True(new FileInfo(Path.Combine(bomb, "base.tar.gz")).Length < 1 << 20);
        var garbage = PlainBackup("b-garbage");
        await File.WriteAllTextAsync(Path.Combine(garbage, "backup_label"), "START WAL LOCATION: 0/5000028 (file nonsense)\nCHECKPOINT LOCATION: x\n");
        var good = PlainBackup("c-good");

        var notices = new List<string>();
        var source = new LocalBaseBackupSource(backups, new SynchronousProgress(notices));
        var before = GC.GetTotalAllocatedBytes(precise: true);
        Assert.Equal(good, (await source.NewestAsync(CancellationToken.None)).Directory);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 64L << 20, "the bomb was not read into memory");
        Assert.Equal(good, (await source.NewestAsync(CancellationToken.None)).Directory);
        Assert.Equal(2, notices.Count);
        Assert.Contains(notices, n => n.Contains(bomb, StringComparison.Ordinal) && n.Contains("larger than", StringComparison.Ordinal));
        Assert.Contains(notices, n => n.Contains(Path.Combine(garbage, "backup_label"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_backup_manifest_is_verified_and_a_damaged_file_is_named()
    {
        var folder = PlainBackup("manifested");
        Directory.CreateDirectory(Path.Combine(folder, "base", "5"));
        await File.WriteAllBytesAsync(Path.Combine(folder, "base", "5", "1259"), Enumerable.Range(0, 20000).Select(i => (byte)(i * 7)).ToArray());
        await File.WriteAllTextAsync(Path.Combine(folder, "PG_VERSION"), "18\n");
        await File.WriteAllTextAsync(Path.Combine(folder, "backup_manifest"), Manifest(folder, "backup_label", "PG_VERSION", "base/5/1259"));

        BaseBackup.TryOpen(folder)!.ExtractTo(Path.Combine(_root, "ok", "data"));

        // One byte changed, same size: only the checksum tells.
        var bytes = await File.ReadAllBytesAsync(Path.Combine(folder, "base", "5", "1259"));
        bytes[12345] ^= 1;
        await File.WriteAllBytesAsync(Path.Combine(folder, "base", "5", "1259"), bytes);
        var error = Assert.Throws<InvalidDataException>(() => BaseBackup.TryOpen(folder)!.ExtractTo(Path.Combine(_root, "bad", "data")));
        Assert.Contains("'base/5/1259'", error.Message);
        Assert.Contains("CRC32C", error.Message);

        // A manifest edited by hand fails its own checksum.
        var manifest = await File.ReadAllTextAsync(Path.Combine(folder, "backup_manifest"));
        await File.WriteAllTextAsync(Path.Combine(folder, "backup_manifest"), manifest.Replace("\"Size\": 3,", "\"Size\": 4,", StringComparison.Ordinal));
        error = Assert.Throws<InvalidDataException>(() => BaseBackup.TryOpen(folder)!.ExtractTo(Path.Combine(_root, "bad2", "data")));
        Assert.Contains("Manifest-Checksum", error.Message);
    }

    /// <summary>A manifest as pg_basebackup writes one, for the given files of a plain backup.</summary>
    internal static string Manifest(string folder, params string[] paths) =>
        Manifest(paths.Select(p => (p, File.ReadAllBytes(Path.Combine(folder, p)))).ToArray());

    /// <summary>A manifest as pg_basebackup writes one, for files given by path and contents.</summary>
    internal static string Manifest(params (string Path, byte[] Data)[] files)
    {
        var text = new StringBuilder("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n");
        text.AppendJoin(",\n", files.Select(f =>
        {
            var (p, data) = f;
            var crc = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(crc, Crc32C.Compute(data));
            return $"{{ \"Path\": \"{p}\", \"Size\": {data.Length}, \"Last-Modified\": \"2026-11-25 10:00:00 GMT\", \"Checksum-Algorithm\": \"CRC32C\", \"Checksum\": \"{Convert.ToHexStringLower(crc)}\" }}";
        }));
        text.Append("\n],\n");
        var body = text.ToString();
        return body + $"\"Manifest-Checksum\": \"{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)))}\"}}\n";
    }

    private string PlainBackup(string name)
    {
        var folder = Path.Combine(_root, "backups", name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "backup_label"), Label);
        return folder;
    }

    private static PaxTarEntry Entry(string name, byte[] data) => new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };

    private sealed class SynchronousProgress(List<string> lines) : IProgress<string>
    {
        public void Report(string value) => lines.Add(value);
    }

    /// <summary>Zeros, as many as asked, without holding them (seekable: a tar writer needs the length up front).</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;
        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => _position = value; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => _position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };

        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
