using System.Buffers.Binary;
using System.IO.Compression;
using DataSync.Core.Archive;
using DataSync.Wal;

namespace DataSync.Core.Tests.Archive;

/// <summary>
/// Archive files built to stall or exhaust the sync: segments whose header claims another (or a huge) segment size,
/// oversized downloads, timeline history files that are garbage or inflate. Each is refused with an error naming the
/// file, costs bounded memory and disk, and the good segments around it still come.
/// </summary>
public sealed class HostileArchiveTests : IDisposable
{
    private const uint SegmentSize = 16 * 1024 * 1024;

    private readonly string _root = Directory.CreateTempSubdirectory("datasync-hostile-archive-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string ArchiveFolder => Path.Combine(_root, "archive");

    /// <summary>A segment that passes the spool's checks: a long first page header (PostgreSQL 18 magic) and zeros.</summary>
    private static byte[] Segment(ulong number, uint claimedSize, int length)
    {
        var bytes = new byte[length];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, 0xD118);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), 0x0002);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), number * claimedSize);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(24), 7_000_000_000_000_000_000);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(32), claimedSize);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(36), 8192);
        return bytes;
    }

    private static string Name(ulong number) => $"00000001{number / 256:X8}{number % 256:X8}";

    private async Task<string> WriteGzipAsync(string name, Action<Stream> write)
    {
        var path = Path.Combine(ArchiveFolder, name);
        await using var file = File.Create(path);
        await using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
        write(gzip);
        return path;
    }

    [Fact]
    public async Task A_segment_whose_header_claims_1_GiB_or_another_size_is_refused_before_it_is_copied()
    {
        Directory.CreateDirectory(ArchiveFolder);
        await File.WriteAllBytesAsync(Path.Combine(ArchiveFolder, Name(2)), Segment(2, SegmentSize, (int)SegmentSize));
        // Compressed, a few MiB on disk: 1 GiB of segment once inflated, and its header says 1 GiB.
        await WriteGzipAsync(Name(3) + ".gz", s =>
        {
            s.Write(Segment(3, 1u << 30, 1 << 20));
            var zeros = new byte[1 << 20];
            for (var i = 1; i < 1024; i++) s.Write(zeros);
        });
        await using var source = new LocalArchiveSource(ArchiveFolder);
        var spool = new WalSpool(Path.Combine(_root, "spool"), SegmentSize);
        var fetcher = new ArchiveFetcher(source, spool, SegmentSize);

        var error = await Assert.ThrowsAsync<WalFormatException>(() => fetcher.FetchNewAsync(new Lsn(2 * SegmentSize), 1, CancellationToken.None));
        Assert.Equal(Name(3) + ".gz", error.FileName);
        Assert.Contains($"segment size of {1u << 30} bytes, but production's WAL segments are {SegmentSize} bytes", error.Message);
        Assert.Equal([Name(2)], spool.Segments());
        // Nothing of the 1 GiB reached the disk: only the good segment is there.
        Assert.Equal(SegmentSize, Directory.EnumerateFiles(spool.Directory).Sum(f => new FileInfo(f).Length));

        // A 64 MiB segment in a 16 MiB archive: refused the same way, naming the file.
        File.Delete(Path.Combine(ArchiveFolder, Name(3) + ".gz"));
        await WriteGzipAsync(Name(3) + ".gz", s => s.Write(Segment(3, 64u << 20, 64 << 20)));
        error = await Assert.ThrowsAsync<WalFormatException>(() => fetcher.FetchNewAsync(null, 1, CancellationToken.None));
        Assert.Equal(Name(3) + ".gz", error.FileName);
        Assert.Contains($"segment size of {64u << 20} bytes", error.Message);
    }

    [Fact]
    public async Task A_plain_file_larger_than_a_segment_is_refused_while_it_downloads()
    {
        Directory.CreateDirectory(ArchiveFolder);
        await File.WriteAllBytesAsync(Path.Combine(ArchiveFolder, Name(2)), Segment(2, SegmentSize, (int)SegmentSize * 3));
        await File.WriteAllBytesAsync(Path.Combine(ArchiveFolder, Name(3)), Segment(3, SegmentSize, (int)SegmentSize));
        await using var source = new LocalArchiveSource(ArchiveFolder);
        var spool = new WalSpool(Path.Combine(_root, "spool"), SegmentSize);
        var error = await Assert.ThrowsAsync<WalFormatException>(() => new ArchiveFetcher(source, spool, SegmentSize).FetchNewAsync(new Lsn(2 * SegmentSize), 1, CancellationToken.None));
        Assert.Equal(Name(2), error.FileName);
        Assert.Contains($"larger than {SegmentSize} bytes", error.Message);
        Assert.Empty(Directory.EnumerateFiles(spool.Directory));
    }

    [Fact]
    public async Task Garbage_and_inflating_history_files_are_skipped_and_named_while_segments_keep_coming()
    {
        Directory.CreateDirectory(ArchiveFolder);
        for (ulong n = 2; n <= 4; n++) await File.WriteAllBytesAsync(Path.Combine(ArchiveFolder, Name(n)), Segment(n, SegmentSize, (int)SegmentSize));
        await File.WriteAllTextAsync(Path.Combine(ArchiveFolder, "00000002.history"), "this is not\ta history file\n");
        // A comment line repeated: valid history syntax, 300 MiB once inflated.
        await WriteGzipAsync("00000003.history.gz", s =>
        {
            var line = new byte[1 << 20];
            line.AsSpan().Fill((byte)'#');
            line[^1] = (byte)'\n';
            for (var i = 0; i < 300; i++) s.Write(line);
        });
        Assert.True(new FileInfo(Path.Combine(ArchiveFolder, "00000003.history.gz")).Length < 4 << 20);
        await using var source = new LocalArchiveSource(ArchiveFolder);
        var spool = new WalSpool(Path.Combine(_root, "spool"), SegmentSize);
        var fetcher = new ArchiveFetcher(source, spool, SegmentSize);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        var result = await fetcher.FetchNewAsync(new Lsn(2 * SegmentSize), 1, CancellationToken.None);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 100L << 20, "the inflating history was not read into memory");
        Assert.Equal(3, result.Fetched);
        Assert.Equal([Name(2), Name(3), Name(4)], spool.Segments());
        Assert.Empty(spool.Histories());
        Assert.NotNull(result.SkippedFiles);
        Assert.Equal(["00000002.history", "00000003.history.gz"], result.SkippedFiles.Select(s => s.File).Order(StringComparer.Ordinal));
        Assert.Contains(result.SkippedFiles, s => s.Problem.Contains("malformed history line", StringComparison.Ordinal));
        Assert.Contains(result.SkippedFiles, s => s.Problem.Contains("larger than", StringComparison.Ordinal));

        // The next pass goes on, without fetching the bad files again, and still names them.
        await File.WriteAllBytesAsync(Path.Combine(ArchiveFolder, Name(5)), Segment(5, SegmentSize, (int)SegmentSize));
        var next = await fetcher.FetchNewAsync(null, 1, CancellationToken.None);
        Assert.Equal(1, next.Fetched);
        Assert.Equal(2, next.SkippedFiles!.Count);
    }
}
