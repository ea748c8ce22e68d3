using System.Buffers.Binary;
using DataSync.TestRig;
using DataSync.TestRig.Workloads;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// The differential oracle for composite and extension types (<see cref="MoreTypesTable"/>): tuples taken raw
/// from a live 18.1 server (pages and WAL) decode into exactly the bytes of the server's own COPY BINARY, field by
/// field, and the rows loaded back hash like the source's. The composites' values were stored both before and after
/// their types gained and lost attributes.
/// </summary>
[Trait("Category", "Server")]
public sealed class MoreTypesDifferentialTests(MoreTypesServerFixture fixture) : IClassFixture<MoreTypesServerFixture>
{
    private const string Table = MoreTypesTable.Name;
    private const string RowsHash = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM {0} AS t";

    [Fact]
    public async Task Page_tuples_decode_to_the_servers_copy_bytes_and_reload_identically()
    {
        await using var connection = await fixture.OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        var toast = new ToastChunkStore();
        foreach (var tuple in await ServerTupleSource.PageTuplesAsync(connection, $"pg_toast.pg_toast_{table.RelationOid}"))
            toast.AddPageTuple(table.ToastRelationOid, tuple);
        Assert.True(toast.ValueCount >= 3, "the data set should have TOASTed several values");

        var decoder = new RowDecoder(table, converter);
        var rows = (await ServerTupleSource.PageTuplesAsync(connection, Table)).Select(t => decoder.DecodePage(t, toast)).ToList();
        await AssertMatchesServerAsync(connection, table, rows, "more_types_from_pages");
    }

    [Fact]
    public async Task Wal_tuples_decode_to_the_servers_copy_bytes_and_reload_identically()
    {
        await using var connection = await fixture.OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        var toast = new ToastChunkStore();
        var decoder = new RowDecoder(table, converter);
        var rows = new List<DecodedRow>();
        foreach (var block in await ServerTupleSource.WalBlocksAsync(connection, fixture.DataStartLsn, fixture.DataEndLsn, table.RelFileNode, table.ToastRelFileNode))
        {
            Assert.StartsWith("INSERT", block.RecordType);
            if (block.RelFileNode == table.ToastRelFileNode) toast.AddWalTuple(table.ToastRelationOid, block.Data);
            else rows.Add(decoder.DecodeWal(block.Data, toast));
        }

        await AssertMatchesServerAsync(connection, table, rows, "more_types_from_wal");
    }

    /// <summary>The catalog carries what the decoder needs: composites with their attributes (the dropped one
    /// included), extension types with their extension's name.</summary>
    [Fact]
    public async Task The_catalog_carries_composite_attributes_and_extension_names()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public." + Table);
        var types = snapshot.Types.ToDictionary(t => t.Name);
        Assert.Equal(["a", "b", "c"], types["pair"].Attributes!.Select(a => a.Name));
        var wide = types["wide"].Attributes!;
        Assert.Equal(13, wide.Count);
        Assert.True(wide[2].IsDropped);
        Assert.Equal(["y", "z"], types["row_shape"].Attributes!.Where(a => !a.IsDropped).Select(a => a.Name));
        Assert.Equal("citext", types["citext"].Extension);
        Assert.Equal("hstore", types["hstore"].Extension);
        Assert.Equal("ltree", types["ltree"].Extension);
        Assert.Equal("cube", types["cube"].Extension);
        Assert.Null(types["pair"].Extension);
        // Types reached only through a composite's attributes are read too.
        Assert.Contains("tstzrange", types.Keys);
        Assert.Contains("jsonb", types.Keys);
    }

    private async Task<(TableDescriptor Table, ValueConverter Converter)> CatalogAsync(NpgsqlConnection connection)
    {
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public." + Table);
        var table = Assert.Single(snapshot.Tables);
        return (table, snapshot.CreateValueConverter());
    }

    private static async Task AssertMatchesServerAsync(NpgsqlConnection connection, TableDescriptor table, List<DecodedRow> rows, string twin)
    {
        Assert.All(rows, r => Assert.False(r.HasUnchangedToast));
        rows.Sort((a, b) => IdOf(a).CompareTo(IdOf(b)));
        var server = await ServerTupleSource.ServerCopyAsync(connection, $"SELECT * FROM {Table} ORDER BY id");
        Assert.Equal(server.Count, rows.Count);
        Assert.Equal(8, rows.Count);

        var mismatches = new List<string>();
        for (var r = 0; r < rows.Count; r++)
        {
            Assert.Equal(server[r].Length, rows[r].FieldCount);
            for (var f = 0; f < rows[r].FieldCount; f++)
            {
                var expected = server[r][f];
                var actual = rows[r].State(f) == FieldState.Null ? null : rows[r].Field(f).ToArray();
                if (expected is null != actual is null || (expected is not null && !expected.AsSpan().SequenceEqual(actual)))
                    mismatches.Add($"id {IdOf(rows[r])}, {table.Columns[rows[r].Columns[f].AttNum - 1].Name}: server {Hex(expected)} ours {Hex(actual)}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));

        await ServerTupleSource.ExecuteAsync(connection, $"DROP TABLE IF EXISTS {twin}; CREATE TABLE {twin} (LIKE {Table})");
        var stream = new SendBuffer();
        CopyBinaryFormat.WriteHeader(stream);
        foreach (var row in rows) CopyBinaryFormat.WriteRow(row, stream);
        CopyBinaryFormat.WriteTrailer(stream);
        await ServerTupleSource.CopyInAsync(connection, twin, stream.WrittenMemory);

        var source = await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, RowsHash, Table));
        var copied = await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, RowsHash, twin));
        Assert.Equal(source, copied);
    }

    private static int IdOf(DecodedRow row) => BinaryPrimitives.ReadInt32BigEndian(row.Field(row.IndexOf(1)));

    private static string Hex(byte[]? bytes) =>
        bytes is null ? "NULL" : bytes.Length > 96 ? $"{Convert.ToHexString(bytes[..96])}... ({bytes.Length} bytes)" : Convert.ToHexString(bytes);
}

/// <summary>A production cluster holding <see cref="MoreTypesTable"/> and its rows; records the WAL range the rows were written in.</summary>
public sealed class MoreTypesServerFixture : IAsyncLifetime
{
    private ProductionCluster? _cluster;

    public ProductionCluster Cluster => _cluster ?? throw new InvalidOperationException("fixture not started");

    public string DataStartLsn { get; private set; } = "";
    public string DataEndLsn { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _cluster = await ProductionCluster.StartAsync("wal-more-types");
        await using var connection = await OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, "CREATE EXTENSION pageinspect; CREATE EXTENSION pg_walinspect;");
        await ServerTupleSource.ExecuteAsync(connection, MoreTypesTable.Ddl);
        DataStartLsn = await ServerTupleSource.CurrentLsnAsync(connection);
        await ServerTupleSource.ExecuteAsync(connection, MoreTypesTable.Data);
        DataEndLsn = await ServerTupleSource.CurrentLsnAsync(connection);
    }

    public Task<NpgsqlConnection> OpenAsync() => Cluster.Server.OpenAsync(ProductionCluster.Database);

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
