using System.Diagnostics;
using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Benchmarks;

/// <summary>
/// A throwaway production cluster that has written a known mix of changes to one published table
/// while a pgoutput slot watched: `rows` inserts, `rows/2` updates, `rows/5` deletes in 10k–50k-row
/// transactions, archived. Its segments are still in pg_wal too (no checkpoint recycles them), so
/// PostgreSQL's own readers (pg_walinspect, the slot) and ours read the very same WAL.
/// </summary>
internal sealed class DecodeFixture : IAsyncDisposable
{
    public const string Table = "public.bench_items";
    public const uint SegmentSize = 16 * 1024 * 1024;

    private DecodeFixture(ProductionCluster production, NpgsqlConnection connection, CatalogSnapshot catalog, CatalogLocations locations,
        Lsn start, IReadOnlyList<string> segments, long expectedChanges, TimeSpan workloadTime)
    {
        Production = production;
        Connection = connection;
        Catalog = catalog;
        Locations = locations;
        Start = start;
        Segments = segments;
        ExpectedChanges = expectedChanges;
        WorkloadTime = workloadTime;
    }

    public ProductionCluster Production { get; }
    public NpgsqlConnection Connection { get; }
    public CatalogSnapshot Catalog { get; }
    public CatalogLocations Locations { get; }

    /// <summary>Insert position just before the workload: where decoding starts.</summary>
    public Lsn Start { get; }

    /// <summary>The archived segments from the one holding <see cref="Start"/> to the switched-out last one.</summary>
    public IReadOnlyList<string> Segments { get; }

    public long ExpectedChanges { get; }
    public TimeSpan WorkloadTime { get; }
    public long SegmentBytes => Segments.Sum(s => new FileInfo(s).Length);

    /// <summary>First byte of the first segment: the WAL range every reader is timed over starts here.</summary>
    public Lsn RangeStart => new(Start.Value / SegmentSize * SegmentSize);

    /// <summary>One past the last byte of the last segment.</summary>
    public Lsn RangeEnd => new(RangeStart.Value + (ulong)Segments.Count * SegmentSize);

    public static async Task<DecodeFixture> CreateAsync(int rows)
    {
        var production = await ProductionCluster.StartAsync("bench-decode", "off", new Dictionary<string, string>
        {
            ["max_wal_size"] = "'8GB'",
            ["checkpoint_timeout"] = "'1h'",
        });
        try
        {
            await production.ExecuteAsync("""
                CREATE TABLE bench_items (id int PRIMARY KEY, grp int NOT NULL, name text, amount numeric(12,2), updated timestamptz);
                CREATE PUBLICATION pub FOR TABLE bench_items;
                CREATE EXTENSION pg_walinspect;
                """);
            var connection = await production.Server.OpenAsync(ProductionCluster.Database);
            var (catalog, locations) = await NpgsqlCatalog.ReadAsync(connection, Table);
            await production.QueryScalarAsync<string>("SELECT lsn::text FROM pg_create_logical_replication_slot('bench', 'pgoutput')");
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
            var workloadTime = clock.Elapsed;
            var last = await production.SwitchSegmentAndWaitArchivedAsync(TimeSpan.FromMinutes(5));
            var first = WalSegmentName.Format(1, start.Value / SegmentSize, SegmentSize);
            var segments = production.ArchivedSegments()
                .Where(s => string.CompareOrdinal(Path.GetFileName(s), first) >= 0 && string.CompareOrdinal(Path.GetFileName(s), last) <= 0).ToList();
            return new DecodeFixture(production, connection, catalog, locations, start, segments, rows + rows / 2 + rows / 5, workloadTime);
        }
        catch
        {
            await production.DisposeAsync();
            throw;
        }
    }

    /// <summary>Full decoding on one thread: records → committed transactions → rows written as COPY BINARY.</summary>
    public (long Changes, TimeSpan Time) DecodeAll()
    {
        var output = new SendBuffer(1 << 20);
        long changes = 0;
        var spill = Path.Combine(Path.GetTempPath(), $"datasync-bench-spill-{Environment.ProcessId}");
        var clock = Stopwatch.StartNew();
        try
        {
            using var decoder = new ChangeDecoder(Catalog, Locations, Segments.Select(WalSegmentSource.FromFile), Start,
                new ReassemblerOptions { MemoryLimitBytes = 256L * 1024 * 1024, Spill = new SpillStore(spill) });
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

            return (changes, clock.Elapsed);
        }
        finally
        {
            if (Directory.Exists(spill)) Directory.Delete(spill, recursive: true);
        }
    }

    /// <summary>Reading and framing every record (pages, CRC) without decoding them.</summary>
    public (long Records, TimeSpan Time) ReadRecords()
    {
        var clock = Stopwatch.StartNew();
        long records = 0;
        using var reader = Wal.Records.WalRecordReader.OpenFiles(Segments);
        while (reader.MoveNext()) records++;
        return (records, clock.Elapsed);
    }

    /// <summary>PostgreSQL's logical decoding of the same WAL through the slot (one backend), counting I/U/D messages.</summary>
    public async Task<(long Changes, TimeSpan Time)> PgOutputAsync(bool consume)
    {
        var function = consume ? "pg_logical_slot_get_binary_changes" : "pg_logical_slot_peek_binary_changes";
        var clock = Stopwatch.StartNew();
        await using var command = new NpgsqlCommand(
            $"SELECT count(*) FILTER (WHERE get_byte(data, 0) IN (73, 85, 68)) FROM {function}('bench', NULL, NULL, 'proto_version', '4', 'publication_names', 'pub')",
            Connection) { CommandTimeout = 0 };
        var changes = (long)(await command.ExecuteScalarAsync())!;
        return (changes, clock.Elapsed);
    }

    /// <summary>
    /// PostgreSQL's own WAL reader (XLogReader with CRC checks, in the server) over exactly the segment
    /// range ours reads, through pg_walinspect: <paramref name="function"/> is pg_get_wal_stats or
    /// pg_get_wal_records_info. Returns the number of records it saw.
    /// </summary>
    public async Task<(long Records, TimeSpan Time)> WalInspectAsync(string function)
    {
        var sql = function == "pg_get_wal_stats"
            ? "SELECT sum(count)::bigint FROM pg_get_wal_stats($1::pg_lsn, $2::pg_lsn, false)"
            : "SELECT count(*) FROM pg_get_wal_records_info($1::pg_lsn, $2::pg_lsn)";
        await using var command = new NpgsqlCommand(sql, Connection) { CommandTimeout = 0 };
        command.Parameters.AddWithValue(RangeStart.ToString());
        command.Parameters.AddWithValue(RangeEnd.ToString());
        var clock = Stopwatch.StartNew();
        var records = (long)(await command.ExecuteScalarAsync())!;
        return (records, clock.Elapsed);
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Production.DisposeAsync();
    }
}
