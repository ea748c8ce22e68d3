using DataSync.Core.Bootstrap;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using DataSync.Wal.Tests.Catalog;
using Npgsql;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// A production cluster and a local one holding the same tables with the same rows at a start LSN,
/// the catalog as of that LSN, and the means to decode the archived WAL from there, apply it locally
/// and compare the tables with production.
/// </summary>
internal sealed class ChangeRig : IAsyncDisposable
{
    private ChangeRig(ProductionCluster production, LocalCluster local, string[] tables)
    {
        Production = production;
        Local = local;
        Tables = tables;
    }

    public ProductionCluster Production { get; }
    public LocalCluster Local { get; }
    public string[] Tables { get; }
    public CatalogSnapshot Catalog { get; private set; } = null!;
    public CatalogLocations Locations { get; private set; } = null!;
    public Lsn Start { get; private set; }
    public IReadOnlyList<string> Segments { get; private set; } = [];

    /// <summary>Starts both clusters, runs <paramref name="ddl"/> on both and <paramref name="setup"/> on production.</summary>
    public static async Task<ChangeRig> StartAsync(string name, string ddl, string setup, string[] tables, string walCompression = "off")
    {
        var production = await ProductionCluster.StartAsync(name, walCompression);
        LocalCluster? local = null;
        try
        {
            local = await LocalCluster.StartAsync(name);
            await production.ExecuteAsync(ddl);
            await local.ExecuteAsync(ddl);
            if (setup.Length > 0) await production.ExecuteAsync(setup);
            return new ChangeRig(production, local, tables);
        }
        catch
        {
            if (local is not null) await local.DisposeAsync();
            await production.DisposeAsync();
            throw;
        }
    }

    /// <summary>Takes the catalog, copies the tables' rows to the local cluster and notes the start LSN; nothing may run meanwhile.</summary>
    public async Task CaptureStartAsync()
    {
        await using var source = await Production.Server.OpenAsync(ProductionCluster.Database);
        (Catalog, Locations) = await ProductionCatalogReader.ReadAsync(source, Tables.Select(TableNameParser.Parse).ToList(), Lsn.Invalid, CancellationToken.None);
        Assert.Equal(Tables.Length, Catalog.Tables.Count);
        await using var target = new NpgsqlConnection(Local.ConnectionString);
        await target.OpenAsync();
        foreach (var table in Tables)
        {
            await using var output = await source.BeginRawBinaryCopyAsync($"COPY {table} TO STDOUT (FORMAT binary)");
            await using var input = await target.BeginRawBinaryCopyAsync($"COPY {table} FROM STDIN (FORMAT binary)");
            await output.CopyToAsync(input);
        }

        Start = Lsn.Parse(await Production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
    }

    /// <summary>Ends the segment in progress and waits until every segment from the start on is archived.</summary>
    public async Task ArchiveAsync()
    {
        var last = await Production.SwitchSegmentAndWaitArchivedAsync();
        const uint segmentSize = 16 * 1024 * 1024;
        var first = WalSegmentName.Format(1, Start.Value / segmentSize, segmentSize);
        Segments = Production.ArchivedSegments()
            .Where(s => string.CompareOrdinal(Path.GetFileName(s)[8..], first[8..]) >= 0 && string.CompareOrdinal(Path.GetFileName(s), last) <= 0)
            .ToList();
    }

    public ChangeDecoder Decoder(ReassemblerOptions? options = null, bool followCatalogRows = true) =>
        new(Catalog, followCatalogRows ? Locations : null, Segments.Select(WalSegmentSource.FromFile), Start, options);

    /// <summary>
    /// Runs <paramref name="statements"/> on production one by one, archives the WAL and decodes it from the start:
    /// each change as "Kind table" for a row, "schema table: what" for a schema change, else its type's name.
    /// </summary>
    public async Task<List<string>> DescribeChangesAfterAsync(IEnumerable<string> statements)
    {
        foreach (var statement in statements) await Production.ExecuteAsync(statement);
        await ArchiveAsync();
        var seen = new List<string>();
        using var decoder = Decoder();
        foreach (var transaction in decoder.Transactions())
        {
            foreach (var change in transaction.Changes)
            {
                seen.Add(change switch
                {
                    RowChange row => $"{row.Kind} {row.Table.Name}",
                    SchemaChangedEvent changed => $"schema {changed.Table.Name}: {changed.What}",
                    _ => change.GetType().Name,
                });
            }
        }

        return seen;
    }

    public async Task<NpgsqlConnection> OpenLocalAsync()
    {
        var connection = new NpgsqlConnection(Local.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>md5 of the table's rows in key order, as text.</summary>
    public static string Fingerprint(string table, string orderBy) =>
        $"SELECT coalesce(md5(string_agg(x::text, '|' ORDER BY {orderBy})), 'empty') || ':' || count(*) FROM {table} x";

    public async Task AssertSameAsync(string table, string orderBy)
    {
        var sql = Fingerprint(table, orderBy);
        var expected = await Production.QueryScalarAsync<string>(sql);
        var actual = await Local.QueryScalarAsync<string>(sql);
        if (expected == actual) return;
        var rows = $"SELECT ROW({orderBy})::text, md5(x::text), left(x::text, 300) FROM {table} x";
        var production = await RowsAsync(Production.Server.ConnectionString(ProductionCluster.Database), rows);
        var local = await RowsAsync(Local.ConnectionString, rows);
        var differences = production.Keys.Union(local.Keys)
            .Where(k => !production.TryGetValue(k, out var p) || !local.TryGetValue(k, out var l) || p.Md5 != l.Md5)
            .Take(5)
            .Select(k => $"key {k}: production {(production.TryGetValue(k, out var p) ? p.Text : "-")}\n   local {(local.TryGetValue(k, out var l) ? l.Text : "-")}");
        Assert.Fail($"{table}: production {expected}, local {actual}\n" + string.Join("\n", differences));
    }

    private static async Task<Dictionary<string, (string Md5, string Text)>> RowsAsync(string connectionString, string sql)
    {
        var rows = new Dictionary<string, (string, string)>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows[reader.GetString(0)] = (reader.GetString(1), reader.GetString(2));
        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        await Local.DisposeAsync();
        await Production.DisposeAsync();
    }
}
