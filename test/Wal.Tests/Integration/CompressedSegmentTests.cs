using System.IO.Compression;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using K4os.Compression.LZ4.Streams;

namespace DataSync.Wal.Tests.Integration;

/// <summary>Real segments as a compressing archive_command leaves them, and reading from the middle of the archive.</summary>
[Collection(RealWalCollection.Name)]
public class CompressedSegmentTests(RealWal wal)
{
    [Fact]
    public void Gzip_zstd_and_lz4_segments_read_exactly_like_the_plain_ones()
    {
        var plain = wal.Segments.Skip(1).Take(3).ToList();
        var folder = Path.Combine(wal.Directory, "compressed-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var compressed = new List<string>
        {
            Compress(plain[0], Path.Combine(folder, Path.GetFileName(plain[0]) + ".gz"), s => new GZipStream(s, CompressionLevel.Fastest)),
            Compress(plain[1], Path.Combine(folder, Path.GetFileName(plain[1]) + ".zst"), s => new ZstdSharp.CompressionStream(s, 3)),
            Compress(plain[2], Path.Combine(folder, Path.GetFileName(plain[2]) + ".lz4"), s => LZ4Stream.Encode(s)),
        };

        var expected = Summaries(WalRecordReader.OpenFiles(plain));
        var actual = Summaries(WalRecordReader.OpenFiles(compressed));

        Assert.True(expected.Count > 10_000, $"{expected.Count} records");
        Assert.Equal(expected, actual);
        Assert.True(new FileInfo(compressed[0]).Length < new FileInfo(plain[0]).Length);
    }

    [Fact]
    public void Compression_is_recognised_by_magic_and_a_name_that_disagrees_is_an_error()
    {
        var folder = Path.Combine(wal.Directory, "magic-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var source = wal.Segments[1];
        var name = Path.GetFileName(source);
        // An archive_command that compressed without renaming: still read, by magic.
        var unnamed = Compress(source, Path.Combine(folder, name), s => new GZipStream(s, CompressionLevel.Fastest));
        Assert.Equal(Summaries(WalRecordReader.OpenFiles([source])), Summaries(WalRecordReader.OpenFiles([unnamed])));

        var lying = Path.Combine(folder, name + ".zst");
        File.Copy(source, lying);
        var error = Assert.Throws<WalFormatException>(() => Summaries(WalRecordReader.OpenFiles([lying])));
        Assert.Equal(WalErrorKind.BadCompression, error.Kind);
        Assert.Equal(name + ".zst", error.FileName);

        var cut = Path.Combine(folder, "cut", name + ".gz");
        Directory.CreateDirectory(Path.GetDirectoryName(cut)!);
        var bytes = File.ReadAllBytes(Compress(source, Path.Combine(folder, "whole.gz.tmp"), s => new GZipStream(s, CompressionLevel.Fastest)));
        File.WriteAllBytes(cut, bytes[..(bytes.Length / 2)]);
        var truncated = Assert.Throws<WalFormatException>(() => Summaries(WalRecordReader.OpenFiles([cut])));
        Assert.True(truncated.Kind is WalErrorKind.Truncated or WalErrorKind.BadCompression, truncated.Message);
    }

    [Fact]
    public void Reading_from_a_middle_segment_skips_the_continued_record_and_then_agrees_with_pg_walinspect()
    {
        var tried = 0;
        for (var i = 1; i < wal.Segments.Count - 1 && tried < 3; i++)
        {
            var head = new byte[24];
            using (var file = File.OpenRead(wal.Segments[i])) file.ReadExactly(head);
            if ((head[2] & 0x01) == 0) continue; // not a continuation page
            tried++;

            Assert.True(WalSegmentName.TryParse(Path.GetFileName(wal.Segments[i]), out var name));
            var segmentStart = name.StartLsn(16 * 1024 * 1024);
            var expected = wal.Expected.Where(r => r.Lsn >= segmentStart).Take(2000).ToList();
            using var reader = WalRecordReader.OpenFiles(wal.Segments.Skip(i));
            for (var k = 0; k < expected.Count; k++)
            {
                Assert.True(reader.MoveNext());
                Assert.Equal((expected[k].Lsn, expected[k].Type), (reader.Current.Lsn, reader.Current.RecordType));
            }

            Assert.True(expected[0].Lsn > segmentStart + 40, "the first record must lie after the skipped continuation");
        }

        Assert.True(tried > 0, "no archived segment starts with a continued record");
    }

    private static string Compress(string source, string destination, Func<Stream, Stream> wrap)
    {
        using (var output = File.Create(destination))
        using (var compressor = wrap(output))
        using (var input = File.OpenRead(source))
            input.CopyTo(compressor);
        return destination;
    }

    private static List<(Lsn, string, uint)> Summaries(WalRecordReader reader)
    {
        using (reader)
        {
            var list = new List<(Lsn, string, uint)>();
            while (reader.MoveNext()) list.Add((reader.Current.Lsn, reader.Current.RecordType, reader.Current.TotalLength));
            return list;
        }
    }
}
