using System.IO.Compression;
using DataSync.Core.Archive;
using DataSync.TestRig;
using DataSync.Wal;
using K4os.Compression.LZ4.Streams;

namespace DataSync.Core.Tests.Archive;

/// <summary>Real archived segments, as archive_commands leave them, fetched into the spool.</summary>
public sealed class WalSpoolTests
{
    [Fact]
    public async Task Fetches_plain_and_compressed_segments_as_identical_plain_files()
    {
        await using var production = await ProductionCluster.StartAsync("spool-fetch");
        await production.ExecuteAsync("CREATE TABLE s (id int PRIMARY KEY, v text); INSERT INTO s SELECT g, md5(g::text) FROM generate_series(1, 5000) g");
        var first = await production.SwitchSegmentAndWaitArchivedAsync();
        await production.ExecuteAsync("UPDATE s SET v = v || 'x'");
        var second = await production.SwitchSegmentAndWaitArchivedAsync();
        await production.ExecuteAsync("DELETE FROM s WHERE id % 2 = 0");
        var third = await production.SwitchSegmentAndWaitArchivedAsync();
        await production.ExecuteAsync("INSERT INTO s VALUES (0, 'zero')");
        var fourth = await production.SwitchSegmentAndWaitArchivedAsync();

        // The archive a user has: one segment plain, the others as gzip, zstd and lz4 archive_commands write them.
        var archive = Path.Combine(production.Root, "mixed-archive");
        Directory.CreateDirectory(archive);
        File.Copy(Path.Combine(production.ArchiveDirectory, first), Path.Combine(archive, first));
        Compress(Path.Combine(production.ArchiveDirectory, second), Path.Combine(archive, second + ".gz"), s => new GZipStream(s, CompressionLevel.Fastest));
        Compress(Path.Combine(production.ArchiveDirectory, third), Path.Combine(archive, third + ".zst"), s => new ZstdSharp.CompressionStream(s, 3));
        Compress(Path.Combine(production.ArchiveDirectory, fourth), Path.Combine(archive, fourth + ".lz4"), s => LZ4Stream.Encode(s));

        await using var source = new LocalArchiveSource(archive);
        var spool = new WalSpool(Path.Combine(production.Root, "spool"));
        var plan = SegmentPlan.After(PreviousSegment(first), await source.ListAsync(CancellationToken.None), 16 * 1024 * 1024);
        Assert.Equal(4, plan.Next.Count);
        foreach (var entry in plan.Next) await spool.FetchAsync(source, entry, CancellationToken.None);

        Assert.Equal([first, second, third, fourth], spool.Segments());
        foreach (var segment in new[] { first, second, third, fourth })
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(production.ArchiveDirectory, segment)), await File.ReadAllBytesAsync(spool.PathOf(segment)));
        Assert.Empty(Directory.EnumerateFiles(spool.Directory, "*.fetching"));

        Assert.Equal(2, spool.RemoveBefore(third));
        Assert.Equal([third, fourth], spool.Segments());
        // Past everything spooled, the newest segment stays: fetching goes on from it.
        Assert.Equal(1, spool.RemoveBefore(NextSegment(fourth)));
        Assert.Equal([fourth], spool.Segments());
    }

    [Fact]
    public async Task Refuses_a_segment_under_the_wrong_name_or_cut_short_naming_the_file()
    {
        await using var production = await ProductionCluster.StartAsync("spool-bad");
        var segment = await production.SwitchSegmentAndWaitArchivedAsync();
        var bytes = await File.ReadAllBytesAsync(Path.Combine(production.ArchiveDirectory, segment));
        var archive = Path.Combine(production.Root, "bad-archive");
        Directory.CreateDirectory(archive);
        var renamed = "000000010000000000000042";
        await File.WriteAllBytesAsync(Path.Combine(archive, renamed), bytes);
        var truncated = "000000010000000000000043";
        await File.WriteAllBytesAsync(Path.Combine(archive, truncated), bytes[..(bytes.Length / 2)]);
        var otherTimeline = "000000020000000000000044";
        await File.WriteAllBytesAsync(Path.Combine(archive, otherTimeline), bytes);

        await using var source = new LocalArchiveSource(archive);
        var spool = new WalSpool(Path.Combine(production.Root, "spool"));

        var wrongName = await Assert.ThrowsAsync<WalFormatException>(() => spool.FetchAsync(source, new ArchiveEntry(renamed, bytes.Length), CancellationToken.None));
        Assert.Contains(renamed, wrongName.Message);
        Assert.Contains("its name says 0/42000000", wrongName.Message);

        var cut = await Assert.ThrowsAsync<WalFormatException>(() => spool.FetchAsync(source, new ArchiveEntry(truncated, bytes.Length / 2), CancellationToken.None));
        Assert.Equal(WalErrorKind.Truncated, cut.Kind);
        Assert.Contains(truncated, cut.Message);

        Assert.Empty(spool.Segments());
        Assert.Empty(Directory.EnumerateFiles(spool.Directory));
    }

    [Fact]
    public void Leftovers_of_an_interrupted_fetch_are_removed_on_open()
    {
        var folder = Directory.CreateTempSubdirectory("spool-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "000000010000000000000005.fetching"), "half");
            var spool = new WalSpool(folder);
            Assert.Empty(Directory.EnumerateFiles(folder));
            Assert.Empty(spool.Segments());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Timeline_history_files_are_spooled_plain_whether_or_not_the_archive_command_compressed_them()
    {
        var folder = Directory.CreateTempSubdirectory("spool-history-").FullName;
        try
        {
            var archive = Directory.CreateDirectory(Path.Combine(folder, "archive")).FullName;
            const string two = "1\t0/5A00028\tno recovery target specified\n";
            const string three = "1\t0/5A00028\tno recovery target specified\n\n2\t0/8000000\tafter promotion\n";
            await File.WriteAllTextAsync(Path.Combine(archive, "00000002.history.plain"), two);
            Compress(Path.Combine(archive, "00000002.history.plain"), Path.Combine(archive, "00000002.history.zst"), s => new ZstdSharp.CompressionStream(s, 3));
            await File.WriteAllTextAsync(Path.Combine(archive, "00000003.history.plain"), three);
            Compress(Path.Combine(archive, "00000003.history.plain"), Path.Combine(archive, "00000003.history.gz"), s => new GZipStream(s, CompressionLevel.Fastest));
            await File.WriteAllTextAsync(Path.Combine(archive, "00000004.history"), "3\tnot an LSN\tbroken\n");
            await using var source = new LocalArchiveSource(archive);
            var spool = new WalSpool(Path.Combine(folder, "spool"));

            await spool.FetchHistoryAsync(source, new ArchiveEntry("00000002.history.zst", 0), CancellationToken.None);
            await spool.FetchHistoryAsync(source, new ArchiveEntry("00000003.history.gz", 0), CancellationToken.None);
            var broken = await Assert.ThrowsAsync<WalFormatException>(() => spool.FetchHistoryAsync(source, new ArchiveEntry("00000004.history", 0), CancellationToken.None));

            Assert.Contains("00000004.history", broken.Message);
            Assert.Equal(two, await File.ReadAllTextAsync(Path.Combine(spool.Directory, "00000002.history")));
            Assert.Equal([2u, 3u], spool.Histories().Select(h => h.Timeline));
            Assert.Equal(Lsn.Parse("0/8000000"), spool.Histories()[1].EndOf(2));
            Assert.Equal(["00000002.history", "00000003.history"], Directory.EnumerateFiles(spool.Directory).Select(Path.GetFileName).Order());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string PreviousSegment(string segment) =>
        segment[..16] + (Convert.ToUInt32(segment[16..], 16) - 1).ToString("X8");

    private static string NextSegment(string segment) =>
        segment[..16] + (Convert.ToUInt32(segment[16..], 16) + 1).ToString("X8");

    private static void Compress(string from, string to, Func<Stream, Stream> compressor)
    {
        using var input = File.OpenRead(from);
        // Some compression streams leave the inner stream open; the file is closed here either way.
        using var file = File.Create(to);
        using (var output = compressor(file))
            input.CopyTo(output);
    }
}
