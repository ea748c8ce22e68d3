using System.Diagnostics;
using System.Globalization;
using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Benchmarks;

/// <summary>
/// Full decoding (WAL records → committed changes → COPY BINARY rows) of a synced table's changes in
/// real archived segments, on one thread, next to PostgreSQL's own logical decoding of the same WAL
/// (pgoutput through a slot created before the workload) in the same run. Reports changes/s of each
/// and the ratio.
/// </summary>
internal static class FullDecodeBenchmark
{
    private const string Table = "public.bench_items";

    public static async Task<int> RunAsync(int rows, int repeats)
    {
        await using var fixture = await DecodeFixture.CreateAsync(rows);
        Console.WriteLine($"workload: {rows} inserts, {rows / 2} updates, {rows / 5} deletes in {fixture.WorkloadTime.TotalSeconds:F1} s; {fixture.Segments.Count} segments");

        var bestRead = Enumerable.Range(0, repeats).Select(_ => fixture.ReadRecords()).MinBy(r => r.Time);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"reading records alone (CRC, pages, segments): {bestRead.Records} records in {bestRead.Time.TotalSeconds:F3} s"));
        var bestOurs = Enumerable.Range(0, repeats).Select(_ => fixture.DecodeAll()).MinBy(r => r.Time);
        var theirs = new List<(long Changes, TimeSpan Time)>();
        for (var i = 0; i < repeats; i++) theirs.Add(await fixture.PgOutputAsync(consume: i == repeats - 1));

        var bestTheirs = theirs.MinBy(r => r.Time);
        var oursRate = bestOurs.Changes / bestOurs.Time.TotalSeconds;
        var theirsRate = bestTheirs.Changes / bestTheirs.Time.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"datasync full decode: {bestOurs.Changes} changes in {bestOurs.Time.TotalSeconds:F3} s = {oursRate / 1e6:F2} M changes/s (one thread; best of {repeats})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pgoutput (slot, proto 4): {bestTheirs.Changes} changes in {bestTheirs.Time.TotalSeconds:F3} s = {theirsRate / 1e6:F2} M changes/s (one backend; best of {repeats})"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio: {oursRate / theirsRate:F2}x"));
        if (bestOurs.Changes != fixture.ExpectedChanges || bestTheirs.Changes != fixture.ExpectedChanges)
        {
            Console.Error.WriteLine($"change counts differ from the workload's {fixture.ExpectedChanges}");
            return 1;
        }

        return 0;
    }

    /// <summary>A production cluster with the benchmark table, its WAL kept for a long workload.</summary>
    public static async Task<ProductionCluster> StartAsync(string name)
    {
        var production = await ProductionCluster.StartAsync(name, "off", new Dictionary<string, string>
        {
            ["max_wal_size"] = "'4GB'",
            ["checkpoint_timeout"] = "'30min'",
        });
        await production.ExecuteAsync("CREATE TABLE bench_items (id int PRIMARY KEY, grp int NOT NULL, name text, amount numeric(12,2), updated timestamptz)");
        return production;
    }

    /// <summary>
    /// <paramref name="rows"/> inserts, rows/2 updates and rows/5 deletes in transactions of 10 000 to 50 000 rows;
    /// returns the catalog as of the start, the start and the archived segments from it on.
    /// </summary>
    public static async Task<(Wal.Catalog.CatalogSnapshot Catalog, CatalogLocations Locations, Lsn Start, List<string> Segments)> RunWorkloadAsync(
        ProductionCluster production, NpgsqlConnection connection, int rows)
    {
        var (catalog, locations) = await NpgsqlCatalog.ReadAsync(connection, Table);
        var start = Lsn.Parse(await production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));

        var clock = Stopwatch.StartNew();
        const int batch = 10_000;
        for (var from = 1; from <= rows; from += batch)
        {
            var to = Math.Min(rows, from + batch - 1);
            await production.ExecuteAsync($"INSERT INTO bench_items SELECT g, g % 100, 'item ' || g || repeat('x', g % 40), g * 0.5, '2025-01-01'::timestamptz + g * interval '1 second' FROM generate_series({from}, {to}) g");
        }

        for (var from = 1; from <= rows; from += 2 * batch)
            await production.ExecuteAsync($"UPDATE bench_items SET amount = amount + 1, updated = updated + interval '1 day' WHERE id BETWEEN {from} AND {from + 2 * batch - 1} AND id % 2 = 0");
        for (var from = 1; from <= rows; from += 5 * batch)
            await production.ExecuteAsync($"DELETE FROM bench_items WHERE id BETWEEN {from} AND {from + 5 * batch - 1} AND id % 5 = 0");
        var last = await production.SwitchSegmentAndWaitArchivedAsync(TimeSpan.FromMinutes(5));
        const uint segmentSize = 16 * 1024 * 1024;
        var first = WalSegmentName.Format(1, start.Value / segmentSize, segmentSize);
        var segments = production.ArchivedSegments()
            .Where(s => string.CompareOrdinal(Path.GetFileName(s), first) >= 0 && string.CompareOrdinal(Path.GetFileName(s), last) <= 0).ToList();
        Console.WriteLine($"workload: {rows} inserts, {rows / 2} updates, {rows / 5} deletes in {clock.Elapsed.TotalSeconds:F1} s; {segments.Count} segments");
        return (catalog, locations, start, segments);
    }

    private static (long Changes, TimeSpan Time) Decode(Wal.Catalog.CatalogSnapshot catalog, CatalogLocations locations, List<string> segments, Lsn start)
    {
        var clock = Stopwatch.StartNew();
        using var decoder = new ChangeDecoder(catalog, locations, segments.Select(WalSegmentSource.FromFile), start, Options());
        return (CountChanges(decoder), clock.Elapsed);
    }

    public static ReassemblerOptions Options() =>
        new() { MemoryLimitBytes = 256L * 1024 * 1024, Spill = new SpillStore(Path.Combine(Path.GetTempPath(), "datasync-bench-spill")) };

    /// <summary>Decodes every change and writes its rows as COPY BINARY, as the applier would; returns the number of row changes.</summary>
    public static long CountChanges(ChangeDecoder decoder)
    {
        var output = new SendBuffer(1 << 20);
        long changes = 0;
        foreach (var transaction in decoder.Transactions())
        {
            foreach (var change in transaction.Changes)
            {
                if (change is not RowChange row) continue;
                changes++;
                if (row.NewRow is { HasUnchangedToast: false } newRow) CopyBinaryFormat.WriteRow(newRow, output);
                if (row.OldKey is { } oldKey) CopyBinaryFormat.WriteRow(oldKey, output);
                if (output.Length > (1 << 20)) output.Clear();
            }
        }

        return changes;
    }

    private static (long Records, TimeSpan Time) ReadOnly(List<string> segments)
    {
        var clock = Stopwatch.StartNew();
        long records = 0;
        using var reader = Wal.Records.WalRecordReader.OpenFiles(segments);
        while (reader.MoveNext()) records++;
        return (records, clock.Elapsed);
    }

    private static async Task<(long Changes, TimeSpan Time)> PgOutputAsync(NpgsqlConnection connection, bool consume)
    {
        var function = consume ? "pg_logical_slot_get_binary_changes" : "pg_logical_slot_peek_binary_changes";
        var clock = Stopwatch.StartNew();
        await using var command = new NpgsqlCommand(
            $"SELECT count(*) FILTER (WHERE get_byte(data, 0) IN (73, 85, 68)) FROM {function}('bench', NULL, NULL, 'proto_version', '4', 'publication_names', 'pub')",
            connection) { CommandTimeout = 0 };
        var changes = (long)(await command.ExecuteScalarAsync())!;
        return (changes, clock.Elapsed);
    }
}
