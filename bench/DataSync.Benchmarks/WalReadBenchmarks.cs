using BenchmarkDotNet.Attributes;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Benchmarks;

/// <summary>
/// Three ways through the same segments: reading the files (the floor any reader pays), reading
/// and framing every record with its CRC-32C checked, and framing segments already in memory
/// (the decoder alone).
/// </summary>
[MemoryDiagnoser]
public class WalReadBenchmarks
{
    public static IReadOnlyList<string> Files { get; set; } = [];

    private byte[] _buffer = [];
    private List<WalSegmentSource> _inMemory = [];

    public static long TotalBytes => Files.Sum(f => new FileInfo(f).Length);

    [GlobalSetup]
    public void Setup()
    {
        _buffer = new byte[Files.Max(f => (int)new FileInfo(f).Length)];
        _inMemory = Files.Select(f => (WalSegmentSource)WalSegmentSource.FromMemory(Path.GetFileName(f), File.ReadAllBytes(f))).ToList();
    }

    [Benchmark(Baseline = true, Description = "raw read")]
    public long RawRead()
    {
        long total = 0;
        foreach (var file in Files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            int n;
            while ((n = stream.Read(_buffer, 0, _buffer.Length)) > 0) total += n;
        }

        return total;
    }

    [Benchmark(Description = "read + frame + CRC")]
    public long ReadFrameAndCrc() => Frame(WalRecordReader.OpenFiles(Files));

    [Benchmark(Description = "frame + CRC (in memory)")]
    public long FrameAndCrcInMemory() => Frame(new WalRecordReader(_inMemory));

    private static long Frame(WalRecordReader reader)
    {
        using (reader)
        {
            long records = 0;
            while (reader.MoveNext()) records += reader.Current.BlockCount + 1;
            return records;
        }
    }
}
