using System.Diagnostics;
using System.Globalization;
using DataSync.TestRig;
using DataSync.Wal.Changes;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;

namespace DataSync.Benchmarks;

/// <summary>
/// Segments framed in parallel (the WalDecoder pool's work) against framed on one thread, and full
/// decoding through <see cref="ChangeDecoder"/> reading the files sequentially against fed by
/// segments framed two at a time, on the full-decode workload's real WAL, in one run. Variants are
/// interleaved and the best of the repeats is kept, so other work on the machine hurts all alike.
/// </summary>
internal static class ParallelFramingBenchmark
{
    public static async Task<int> RunAsync(int rows, int repeats)
    {
        await using var fixture = await DecodeFixture.CreateAsync(rows);
        var (catalog, locations, start, segments) = (fixture.Catalog, fixture.Locations, fixture.Start, fixture.Segments);
        var sources = segments.Select(WalSegmentSource.FromFile).ToList();
        var framer = SegmentFramer.Over(sources);
        var bytes = (double)segments.Sum(s => new FileInfo(s).Length);
        var c = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(c, $"{segments.Count} segments, {bytes / 1048576:F0} MiB, {Environment.ProcessorCount} cores, load average {LoadAverage()}"));

        var framing = new Dictionary<int, List<TimeSpan>> { [0] = [], [1] = [], [2] = [] };
        var framingCpu = new Dictionary<int, List<TimeSpan>> { [0] = [], [1] = [], [2] = [] };
        var framingAllocated = new Dictionary<int, long>();
        for (var i = 0; i < repeats + 1; i++)
        {
            // 0: the sequential WalRecordReader over the same files, for scale (same checks, no copy).
            foreach (var threads in new[] { 0, 1, 2 })
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                var (records, time) = threads == 0 ? ReadAll(sources) : FrameAll(framer, sources, threads);
                // The first round warms the JIT, the page cache and the pool.
                if (i > 0)
                {
                    framing[threads].Add(time);
                    framingCpu[threads].Add(Process.GetCurrentProcess().TotalProcessorTime - cpu);
                    framingAllocated[threads] = GC.GetTotalAllocatedBytes(precise: true) - allocated;
                }

                if (i == 0 && threads == 1) Console.WriteLine($"framing: {records} records");
            }
        }

        string Cost(int threads) => string.Create(c,
            $"(process CPU {framingCpu[threads].Min().TotalSeconds:F3} s, allocated {framingAllocated[threads] / 1024.0:F0} KiB)");
        var reader = framing[0].Min();
        Console.WriteLine(string.Create(c, $"sequential WalRecordReader (read, pages, CRC), 1 thread: {reader.TotalSeconds:F3} s = {bytes / 1e6 / reader.TotalSeconds:F0} MB/s {Cost(0)}"));
        var one = framing[1].Min();
        var two = framing[2].Min();
        Console.WriteLine(string.Create(c, $"framing (read, pages, CRC, copy) on 1 thread: {one.TotalSeconds:F3} s = {bytes / 1e6 / one.TotalSeconds:F0} MB/s {Cost(1)}"));
        Console.WriteLine(string.Create(c, $"framing on 2 threads:                          {two.TotalSeconds:F3} s = {bytes / 1e6 / two.TotalSeconds:F0} MB/s {Cost(2)}"));
        Console.WriteLine(string.Create(c, $"speed-up 2 threads / 1 thread: {one / two:F2}x (best of {repeats})"));

        var decoding = new Dictionary<string, List<(long Changes, TimeSpan Time, TimeSpan Cpu, TimeSpan ThreadCpu)>> { ["sequential"] = [], ["framed x1"] = [], ["framed x2"] = [] };
        for (var i = 0; i < repeats + 1; i++)
        {
            foreach (var variant in decoding.Keys)
            {
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var threadCpu = ThreadCpu();
                var clock = Stopwatch.StartNew();
                using var decoder = variant == "sequential"
                    ? new ChangeDecoder(catalog, locations, sources, start, FullDecodeBenchmark.Options())
                    : new ChangeDecoder(catalog, locations, framer.FrameInOrder(sources, variant == "framed x2" ? 2 : 1), start, FullDecodeBenchmark.Options());
                var changes = FullDecodeBenchmark.CountChanges(decoder);
                if (i > 0) decoding[variant].Add((changes, clock.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu, ThreadCpu() - threadCpu));
            }
        }

        var counts = decoding.Values.SelectMany(v => v.Select(r => r.Changes)).Distinct().ToList();
        var sequential = decoding["sequential"].Min(r => r.Time);
        var sequentialThread = decoding["sequential"].Min(r => r.ThreadCpu);
        foreach (var (variant, runs) in decoding)
        {
            var best = runs.Min(r => r.Time);
            Console.WriteLine(string.Create(c,
                $"ChangeDecoder {variant,-10}: {runs[0].Changes} changes in {best.TotalSeconds:F3} s = {runs[0].Changes / best.TotalSeconds / 1e6:F2} M changes/s, {sequential / best:F2}x sequential; " +
                $"CPU: process {runs.Min(r => r.Cpu).TotalSeconds:F3} s, reassembly thread {runs.Min(r => r.ThreadCpu).TotalSeconds:F3} s ({sequentialThread / runs.Min(r => r.ThreadCpu):F2}x less than sequential)"));
        }

        if (counts.Count != 1 || counts[0] != rows + rows / 2 + rows / 5)
        {
            Console.Error.WriteLine($"change counts {string.Join(", ", counts)} differ from the workload's {rows + rows / 2 + rows / 5}");
            return 1;
        }

        return 0;
    }

    private static (long Records, TimeSpan Time) ReadAll(List<WalSegmentSource> sources)
    {
        var clock = Stopwatch.StartNew();
        long records = 0;
        using var reader = new WalRecordReader(sources);
        while (reader.MoveNext()) records++;
        return (records, clock.Elapsed);
    }

    private static (long Records, TimeSpan Time) FrameAll(SegmentFramer framer, List<WalSegmentSource> sources, int threads)
    {
        var clock = Stopwatch.StartNew();
        long records = 0;
        Parallel.ForEach(sources, new ParallelOptions { MaxDegreeOfParallelism = threads }, source =>
        {
            using var framed = framer.Frame(source);
            if (framed.Failure is not null) throw framed.Failure;
            Interlocked.Add(ref records, framed.RecordCount);
        });
        return (records, clock.Elapsed);
    }

    /// <summary>
    /// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): the reassembly thread's own work, which
    /// bounds the speed-up parallel framing can give when other cores are free, whatever the load now.
    /// </summary>
    private static TimeSpan ThreadCpu()
    {
        if (!OperatingSystem.IsLinux()) return TimeSpan.Zero;
        _ = ClockGetTime(3, out var now);
        return TimeSpan.FromTicks(now.Seconds * TimeSpan.TicksPerSecond + now.Nanoseconds / 100);
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
