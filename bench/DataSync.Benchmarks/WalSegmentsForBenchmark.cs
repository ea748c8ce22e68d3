using DataSync.TestRig;

namespace DataSync.Benchmarks;

/// <summary>
/// The real segments the benchmark reads: those in DATASYNC_BENCH_WAL_DIR when set, otherwise
/// fresh ones from a throwaway PostgreSQL 18.1 cluster running a mixed workload (same rig as the tests).
/// </summary>
public static class WalSegmentsForBenchmark
{
    public const string DirectoryVariable = "DATASYNC_BENCH_WAL_DIR";

    public static async Task<IReadOnlyList<string>> GetAsync(TextWriter log)
    {
        var configured = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            var given = SegmentsIn(configured);
            log.WriteLine($"Using {given.Count} segments from {configured}");
            return given;
        }

        var folder = Path.Combine(Path.GetTempPath(), "datasync-bench-wal");
        var cached = Directory.Exists(folder) ? SegmentsIn(folder) : [];
        if (cached.Count >= 8)
        {
            log.WriteLine($"Using {cached.Count} segments generated earlier in {folder}");
            return cached;
        }

        log.WriteLine($"{DirectoryVariable} is not set: generating WAL with a PostgreSQL 18.1 cluster into {folder}");
        Directory.CreateDirectory(folder);
        await using var cluster = await ProductionCluster.StartAsync("wal-bench", "off");
        await cluster.ExecuteAsync("""
            CREATE TABLE bench (id int PRIMARY KEY, v text, n numeric);
            INSERT INTO bench SELECT g, md5(g::text), g FROM generate_series(1, 400000) g;
            UPDATE bench SET v = v || 'x' WHERE id % 2 = 0;
            DELETE FROM bench WHERE id % 7 = 0;
            CHECKPOINT;
            UPDATE bench SET n = n + 1 WHERE id % 3 = 0;
            """);
        var last = await cluster.SwitchSegmentAndWaitArchivedAsync();
        foreach (var segment in cluster.ArchivedSegments().Where(s => string.CompareOrdinal(Path.GetFileName(s), last) <= 0))
            File.Copy(segment, Path.Combine(folder, Path.GetFileName(segment)), overwrite: true);
        return SegmentsIn(folder);
    }

    private static List<string> SegmentsIn(string folder) =>
        Directory.EnumerateFiles(folder).Where(f => Path.GetFileName(f).Length == 24).Order(StringComparer.Ordinal).ToList();
}
