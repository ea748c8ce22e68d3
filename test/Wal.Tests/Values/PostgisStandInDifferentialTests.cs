using System.Text;
using DataSync.TestRig;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Values;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// The captured PostGIS values (<see cref="PostgisFixture"/>) on PostgreSQL 18 pages and in its WAL: stored through the
/// stand-in extension postgis (<see cref="PostgisStandIn"/>), whose types keep the serialized bytes exactly as PostGIS
/// stores them, and compressed (geometry, storage MAIN as PostGIS has it) or TOASTed (geography, set EXTERNAL here) by
/// PostgreSQL 18 itself. The catalog reader recognises the types by their
/// extension, the row decoder reads them (detoasting included) and every field equals PostGIS's own send bytes.
/// </summary>
[Trait("Category", "Server")]
public sealed class PostgisStandInDifferentialTests(PostgisStandInServerFixture fixture) : IClassFixture<PostgisStandInServerFixture>
{
    [Fact]
    public async Task Page_tuples_decode_to_postgis_send_bytes()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public.geo");
        var table = Assert.Single(snapshot.Tables);
        Assert.Equal(["postgis", "postgis"], snapshot.Types.Where(t => t.Name is "geometry" or "geography").Select(t => t.Extension));
        var toast = new ToastChunkStore();
        foreach (var tuple in await ServerTupleSource.PageTuplesAsync(connection, $"pg_toast.pg_toast_{table.RelationOid}"))
            toast.AddPageTuple(table.ToastRelationOid, tuple);
        Assert.True(toast.ValueCount >= 1, "the large geography should be TOASTed");

        var decoder = new RowDecoder(table, snapshot.CreateValueConverter());
        AssertSendBytes((await ServerTupleSource.PageTuplesAsync(connection, "geo")).Select(t => decoder.DecodePage(t, toast)).ToList());
    }

    [Fact]
    public async Task Wal_tuples_decode_to_postgis_send_bytes()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public.geo");
        var table = Assert.Single(snapshot.Tables);
        var decoder = new RowDecoder(table, snapshot.CreateValueConverter());
        var toast = new ToastChunkStore();
        var rows = new List<DecodedRow>();
        foreach (var block in await ServerTupleSource.WalBlocksAsync(connection, fixture.DataStartLsn, fixture.DataEndLsn, table.RelFileNode, table.ToastRelFileNode))
        {
            if (block.RelFileNode == table.ToastRelFileNode) toast.AddWalTuple(table.ToastRelationOid, block.Data);
            else rows.Add(decoder.DecodeWal(block.Data, toast));
        }

        AssertSendBytes(rows);
    }

    /// <summary>A value the converter refuses is reported with the table, the column and the type.</summary>
    [Fact]
    public async Task A_value_not_decodable_names_table_column_and_type()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public.geo_nurbs");
        var decoder = new RowDecoder(Assert.Single(snapshot.Tables), snapshot.CreateValueConverter());
        var tuple = Assert.Single(await ServerTupleSource.PageTuplesAsync(connection, "geo_nurbs"));
        var error = Assert.Throws<DatumFormatException>(() => decoder.DecodePage(tuple, null));
        Assert.StartsWith("public.geo_nurbs, column g (public.geometry): public.geometry: geometry type 16 (nurbscurve) is not supported", error.Message);
    }

    private static void AssertSendBytes(List<DecodedRow> rows)
    {
        var expected = PostgisFixture.Values;
        Assert.Equal(expected.Count, rows.Count);
        foreach (var row in rows)
        {
            var id = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(row.Field(0));
            var value = expected[id];
            var column = value.Type == "geometry" ? 1 : 2;
            Assert.Equal(FieldState.Null, row.State(3 - column));
            if (value.Send is null)
            {
                Assert.Equal(FieldState.Null, row.State(column));
                continue;
            }

            Assert.Equal(FieldState.Value, row.State(column));
            Assert.True(value.Send.AsSpan().SequenceEqual(row.Field(column)), value.ToString());
        }
    }
}

/// <summary>A production cluster holding every captured PostGIS value in table geo (row id = the value's index in the
/// fixture) and one stored NURBS curve in geo_nurbs.</summary>
public sealed class PostgisStandInServerFixture : IAsyncLifetime
{
    private ProductionCluster? _cluster;

    public string DataStartLsn { get; private set; } = "";
    public string DataEndLsn { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _cluster = await ProductionCluster.StartAsync("wal-postgis");
        await using var connection = await OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, "CREATE EXTENSION pageinspect; CREATE EXTENSION pg_walinspect; " + PostgisStandIn.CreateSql +
            "CREATE TABLE geo (id int PRIMARY KEY, g geometry, gg geography); ALTER TABLE geo ALTER COLUMN gg SET STORAGE EXTERNAL; CREATE TABLE geo_nurbs (id int PRIMARY KEY, g geometry);" +
            @"INSERT INTO geo_nurbs VALUES (1, '\x000000401000000000000000');");
        DataStartLsn = await ServerTupleSource.CurrentLsnAsync(connection);
        var values = PostgisFixture.Values;
        for (var i = 0; i < values.Count; i++)
        {
            var literal = values[i].Send is null ? "NULL" : $"'\\x{Convert.ToHexString(values[i].Datum)}'";
            var sql = new StringBuilder($"INSERT INTO geo VALUES ({i}, ");
            sql.Append(values[i].Type == "geometry" ? $"{literal}, NULL)" : $"NULL, {literal})");
            await ServerTupleSource.ExecuteAsync(connection, sql.ToString());
        }

        DataEndLsn = await ServerTupleSource.CurrentLsnAsync(connection);
    }

    public Task<Npgsql.NpgsqlConnection> OpenAsync() => (_cluster ?? throw new InvalidOperationException("fixture not started")).Server.OpenAsync(ProductionCluster.Database);

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
