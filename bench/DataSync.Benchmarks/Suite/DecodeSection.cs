using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// Section 1: the same WAL read four ways. Raw file reads, our framing + CRC (BenchmarkDotNet,
/// in-process), PostgreSQL's own reader in the server through pg_walinspect over exactly the same
/// segment range, and full decoding against pgoutput through a slot.
/// </summary>
internal static class DecodeSection
{
    private const string Name = "1 decode";

    public static async Task RunAsync(SuiteOptions options, ResultTable table)
    {
        await using var fixture = await DecodeFixture.CreateAsync(options.Rows);
        var bytes = fixture.SegmentBytes;
        var megabytes = bytes / 1e6;
        table.Note(Format.Invariant(
            $"Decode workload: {options.Rows:N0} inserts, {options.Rows / 2:N0} updates, {options.Rows / 5:N0} deletes (10k–50k-row transactions) = {fixture.Segments.Count} segments, {bytes / 1048576.0:F0} MiB of WAL, written in {fixture.WorkloadTime.TotalSeconds:F0} s."));

        // BenchmarkDotNet for the in-process readers over the archived copies of the segments.
        WalReadBenchmarks.Files = fixture.Segments;
        var config = ManualConfig.CreateMinimumViable()
            .AddLogger(NullLogger.Instance)
            .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(2).WithIterationCount(options.Repeats + 3).WithLaunchCount(1));
        var summary = BenchmarkRunner.Run<WalReadBenchmarks>(config);
        var speeds = new Dictionary<string, double>();
        foreach (var report in summary.Reports)
        {
            if (report.ResultStatistics is not { } statistics) continue;
            speeds[report.BenchmarkCase.Descriptor.WorkloadMethodDisplayInfo.Trim('\'')] = megabytes / (statistics.Median / 1e9);
        }

        var raw = speeds.GetValueOrDefault("raw read");
        var framed = speeds.GetValueOrDefault("read + frame + CRC");
        var inMemory = speeds.GetValueOrDefault("frame + CRC (in memory)");

        // PostgreSQL's reader: the server reads the same range from its pg_wal (page cache, as ours reads the archive's copies).
        var stats = new List<(long Records, TimeSpan Time)>();
        for (var i = 0; i < options.Repeats; i++) stats.Add(await fixture.WalInspectAsync("pg_get_wal_stats"));
        var info = new List<(long Records, TimeSpan Time)>();
        for (var i = 0; i < Math.Max(1, options.Repeats / 2); i++) info.Add(await fixture.WalInspectAsync("pg_get_wal_records_info"));
        var statsRate = megabytes / Stats.Median(stats.Select(s => s.Time)).TotalSeconds;
        var infoRate = megabytes / Stats.Median(info.Select(s => s.Time)).TotalSeconds;
        var ourRecords = fixture.ReadRecords().Records;

        table.Add(new ResultRow(Name, "read + frame + CRC (files)", Mb(framed), $"raw read of the same files {Mb(raw)}", framed / raw,
            Note: "ratio < 1 by nature: the raw read is the floor"));
        table.Add(new ResultRow(Name, "read + frame + CRC (files)", Mb(framed), $"PostgreSQL reader, pg_get_wal_stats {Mb(statsRate)}", framed / statsRate,
            "≥ 0.75x", framed / statsRate >= 0.75, Format.Invariant($"records: ours {ourRecords:N0}, PostgreSQL {stats[0].Records:N0}")));
        table.Add(new ResultRow(Name, "frame + CRC (segments in memory)", Mb(inMemory), $"PostgreSQL reader, pg_get_wal_stats {Mb(statsRate)}", inMemory / statsRate));
        table.Add(new ResultRow(Name, "read + frame + CRC (files)", Mb(framed), $"pg_get_wal_records_info {Mb(infoRate)}", framed / infoRate,
            Note: "PostgreSQL also formats every record's description here"));

        // Full decode against pgoutput (best of the repeats for both, as the full-decode mode does).
        var ours = Enumerable.Range(0, options.Repeats).Select(_ => fixture.DecodeAll()).ToList();
        var theirs = new List<(long Changes, TimeSpan Time)>();
        for (var i = 0; i < options.Repeats; i++) theirs.Add(await fixture.PgOutputAsync(consume: false));
        var oursTime = Stats.Median(ours.Select(o => o.Time));
        var theirsTime = Stats.Median(theirs.Select(o => o.Time));
        var oursRate = ours[0].Changes / oursTime.TotalSeconds;
        var theirsRate = theirs[0].Changes / theirsTime.TotalSeconds;
        var countsAgree = ours[0].Changes == fixture.ExpectedChanges && theirs[0].Changes == fixture.ExpectedChanges;
        table.Add(new ResultRow(Name, "full decode to COPY BINARY, changes/s (one thread)", Format.Invariant($"{oursRate / 1e6:F2} M/s"),
            Format.Invariant($"pgoutput via slot, proto 4 (one backend) {theirsRate / 1e6:F2} M/s"), oursRate / theirsRate, "≥ 2x", oursRate / theirsRate >= 2,
            countsAgree ? Format.Invariant($"{fixture.ExpectedChanges:N0} changes each") : Format.Invariant($"COUNTS DIFFER: ours {ours[0].Changes}, pgoutput {theirs[0].Changes}, workload {fixture.ExpectedChanges}")));
    }

    private static string Mb(double rate) => Format.Invariant($"{rate:F0} MB/s");
}
