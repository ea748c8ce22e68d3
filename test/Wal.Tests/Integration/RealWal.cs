using DataSync.TestRig;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Wal.Tests.Integration;

/// <summary>
/// WAL from a real PostgreSQL 18.1 server: the mixed workload run once with wal_compression=off and
/// once with pglz, all segments archived and copied here, and pg_walinspect's view of every record
/// from the first archived segment to the end of the workload. Made once for all integration tests;
/// the server is stopped as soon as the WAL and the expected rows are collected.
/// </summary>
public sealed class RealWal : IAsyncLifetime
{
    public sealed record InspectedRecord(Lsn Lsn, Lsn End, Lsn Prev, uint Xid, string Rmgr, string Type, uint Length, uint MainDataLength, uint FpiLength);

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"datasync-wal-tests-{Environment.UserName}", Guid.NewGuid().ToString("N"));
    public IReadOnlyList<string> Segments { get; private set; } = [];
    public IReadOnlyList<InspectedRecord> Expected { get; private set; } = [];
    public Lsn Start { get; private set; }
    public Lsn End { get; private set; }
    public TimeSpan Generation { get; private set; }

    public async Task InitializeAsync()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        System.IO.Directory.CreateDirectory(Directory);
        await using var cluster = await ProductionCluster.StartAsync("wal-reader", "off", new Dictionary<string, string>
        {
            // pg_walinspect reads pg_wal: keep every segment of the run there.
            ["wal_keep_size"] = "'2GB'",
            ["max_wal_size"] = "'2GB'",
        });
        await cluster.ExecuteAsync("CREATE EXTENSION pg_walinspect");
        foreach (var compression in new[] { "off", "pglz" })
        {
            await cluster.Server.ExecuteAsync($"ALTER SYSTEM SET wal_compression = '{compression}'");
            await cluster.Server.ExecuteAsync("SELECT pg_reload_conf()");
            await RunWorkloadAsync(cluster);
            // A segment switch inside the compared range: the rest of that segment is zeros.
            await cluster.Server.ExecuteAsync("SELECT pg_switch_wal()");
        }

        End = new Lsn(await LsnAsync(cluster, "SELECT pg_current_wal_insert_lsn()"));
        var last = await cluster.SwitchSegmentAndWaitArchivedAsync();
        var archived = cluster.ArchivedSegments().Where(s => string.CompareOrdinal(Path.GetFileName(s), last) <= 0).ToList();
        foreach (var segment in archived) File.Copy(segment, Path.Combine(Directory, Path.GetFileName(segment)));
        Segments = archived.Select(s => Path.Combine(Directory, Path.GetFileName(s))).ToList();

        Assert.True(WalSegmentName.TryParse(Path.GetFileName(Segments[0]), out var first));
        Start = first.StartLsn(16 * 1024 * 1024);
        Expected = await InspectAsync(cluster, Start, End);
        Generation = clock.Elapsed;
    }

    private static async Task RunWorkloadAsync(ProductionCluster cluster)
    {
        await using var stream = typeof(RealWal).Assembly.GetManifestResourceStream("workload.sql")!;
        var text = await new StreamReader(stream).ReadToEndAsync();
        var statements = string.Join('\n', text.Split('\n').Where(l => !l.TrimStart().StartsWith("--", StringComparison.Ordinal)))
            .Split(';').Select(s => s.Trim()).Where(s => s.Length > 0);
        // One statement at a time: VACUUM and the transaction-control statements cannot share a batch.
        await using var connection = await cluster.Server.OpenAsync(ProductionCluster.Database);
        foreach (var statement in statements)
        {
            await using var command = new NpgsqlCommand(statement, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task<ulong> LsnAsync(ProductionCluster cluster, string sql)
    {
        var text = await cluster.QueryScalarAsync<string>($"SELECT ({sql})::text");
        return Lsn.Parse(text).Value;
    }

    private static async Task<List<InspectedRecord>> InspectAsync(ProductionCluster cluster, Lsn start, Lsn end)
    {
        var rows = new List<InspectedRecord>();
        await using var connection = await cluster.Server.OpenAsync(ProductionCluster.Database);
        await using var command = new NpgsqlCommand(
            "SELECT start_lsn::text, end_lsn::text, prev_lsn::text, xid::text::bigint, resource_manager, record_type, record_length, main_data_length, fpi_length " +
            $"FROM pg_get_wal_records_info('{start}', '{end}')", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(new InspectedRecord(
                Lsn.Parse(reader.GetString(0)), Lsn.Parse(reader.GetString(1)), Lsn.Parse(reader.GetString(2)),
                (uint)reader.GetInt64(3), reader.GetString(4), reader.GetString(5),
                (uint)reader.GetInt32(6), (uint)reader.GetInt32(7), (uint)reader.GetInt32(8)));
        }

        return rows;
    }

    public Task DisposeAsync()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}
