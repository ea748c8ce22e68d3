using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using DataSync.Benchmarks;
using DataSync.Benchmarks.Suite;

// Usage: dotnet run -c Release --project bench/DataSync.Benchmarks
// (set DATASYNC_BENCH_WAL_DIR to a folder of real segments, or let it generate them).
// Full decoding against pgoutput: dotnet run -c Release --project bench/DataSync.Benchmarks -- full-decode [rows] [repeats]
// Parallel framing (1 vs 2 threads) and ChangeDecoder sequential vs parallel-framed: ... -- parallel-framing [rows] [repeats]
// What the checkpoint journal (Akka.Persistence.Sql) costs a fresh process: ... -- journal-startup
// Everything side by side with its baselines, into a Markdown table: ... -- suite [options] (or scripts/bench.sh)
if (args.Length > 0 && args[0] == "suite")
{
    SuiteOptions options;
    try
    {
        options = SuiteOptions.Parse(args[1..]);
    }
    catch (Exception e) when (e is ArgumentException or FormatException)
    {
        Console.Error.WriteLine(e.Message);
        return 2;
    }

    return await SuiteRunner.RunAsync(options);
}

if (args.Length > 0 && args[0] == "journal-startup")
    return await JournalStartupBenchmark.RunAsync();

if (args.Length > 0 && args[0] == "full-decode")
{
    var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500_000;
    var repeats = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
    return await FullDecodeBenchmark.RunAsync(rows, repeats);
}

if (args.Length > 0 && args[0] == "parallel-framing")
{
    var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000;
    var repeats = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;
    return await ParallelFramingBenchmark.RunAsync(rows, repeats);
}

var files = await WalSegmentsForBenchmark.GetAsync(Console.Out);
WalReadBenchmarks.Files = files;
var bytes = WalReadBenchmarks.TotalBytes;

// In-process so the segment list set above reaches the benchmark; a short job keeps the run near a minute.
var config = ManualConfig.CreateMinimumViable()
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(8).WithLaunchCount(1));
var summary = BenchmarkRunner.Run<WalReadBenchmarks>(config);

var c = CultureInfo.InvariantCulture;
Console.WriteLine();
Console.WriteLine(string.Create(c, $"WAL read over {files.Count} segments, {bytes / 1048576.0:F0} MiB, one core (median of the iterations):"));
var speeds = new Dictionary<string, double>();
foreach (var report in summary.Reports)
{
    if (report.ResultStatistics is not { } stats) continue;
    // The median shrugs off iterations slowed by other work on a shared machine.
    var mbPerSecond = bytes / 1e6 / (stats.Median / 1e9);
    speeds[report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\'')] = mbPerSecond;
    Console.WriteLine(string.Create(c, $"  {report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo,-26} {mbPerSecond,8:F0} MB/s"));
}

if (speeds.TryGetValue("raw read", out var raw) && speeds.TryGetValue("read + frame + CRC", out var framed))
    Console.WriteLine(string.Create(c, $"  read + frame + CRC runs at {framed / raw:P0} of the raw read speed"));
if (speeds.TryGetValue("frame + CRC (in memory)", out var decode))
    Console.WriteLine(string.Create(c, $"  framing + CRC alone: {decode / 1000:F2} GB/s (target 1.5 GB/s; PostgreSQL's C reader about 2 GB/s here)"));
return 0;
