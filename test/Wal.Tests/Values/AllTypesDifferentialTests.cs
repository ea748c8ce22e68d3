using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// The differential oracle: tuples of a table with every supported type are taken raw from a live
/// 18.1 server (pages via pageinspect, WAL via pg_walinspect), decoded by our code into COPY BINARY,
/// and compared with the server's own COPY BINARY output field by field, then loaded into a twin
/// table whose rows must hash identically to the source's.
/// </summary>
[Trait("Category", "Server")]
public sealed class AllTypesDifferentialTests(AllTypesServerFixture fixture) : IClassFixture<AllTypesServerFixture>
{
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
        var rows = (await ServerTupleSource.PageTuplesAsync(connection, AllTypesServerFixture.Table))
            .Select(t => decoder.DecodePage(t, toast)).ToList();

        await AssertMatchesServerAsync(connection, table, rows, "all_types_from_pages");
    }

    [Fact]
    public async Task Wal_tuples_decode_to_the_servers_copy_bytes_and_reload_identically()
    {
        await using var connection = await fixture.OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        var blocks = await ServerTupleSource.WalBlocksAsync(connection, fixture.DataStartLsn, fixture.DataEndLsn,
            table.RelFileNode, table.ToastRelFileNode);

        var toast = new ToastChunkStore();
        var decoder = new RowDecoder(table, converter);
        var rows = new List<DecodedRow>();
        foreach (var block in blocks)
        {
            Assert.StartsWith("INSERT", block.RecordType);
            if (block.RelFileNode == table.ToastRelFileNode) toast.AddWalTuple(table.ToastRelationOid, block.Data);
            else rows.Add(decoder.DecodeWal(block.Data, toast));
        }

        await AssertMatchesServerAsync(connection, table, rows, "all_types_from_wal");
    }

    private async Task<(TableDescriptor Table, ValueConverter Converter)> CatalogAsync(NpgsqlConnection connection)
    {
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public." + AllTypesServerFixture.Table);
        var table = Assert.Single(snapshot.Tables);
        Assert.NotEqual(0u, table.ToastRelFileNode);
        return (table, new ValueConverter(snapshot.CreateTypeRegistry()));
    }

    private static async Task AssertMatchesServerAsync(NpgsqlConnection connection, TableDescriptor table, List<DecodedRow> rows, string twin)
    {
        Assert.All(rows, r => Assert.False(r.HasUnchangedToast));
        rows.Sort((a, b) => IdOf(a).CompareTo(IdOf(b)));
        var server = await ServerTupleSource.ServerCopyAsync(connection, $"SELECT * FROM {AllTypesServerFixture.Table} ORDER BY id");
        Assert.Equal(server.Count, rows.Count);

        var mismatches = new List<string>();
        for (var r = 0; r < rows.Count; r++)
        {
            Assert.Equal(server[r].Length, rows[r].FieldCount);
            for (var f = 0; f < rows[r].FieldCount; f++)
            {
                var expected = server[r][f];
                var actual = rows[r].State(f) == FieldState.Null ? null : rows[r].Field(f).ToArray();
                if (expected is null != actual is null || (expected is not null && !expected.AsSpan().SequenceEqual(actual)))
                {
                    mismatches.Add($"id {IdOf(rows[r])}, {table.Columns[rows[r].Columns[f].AttNum - 1].Name}: server {Hex(expected)} ours {Hex(actual)}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));

        var stream = new SendBuffer();
        CopyBinaryFormat.WriteHeader(stream);
        foreach (var row in rows) CopyBinaryFormat.WriteRow(row, stream);
        CopyBinaryFormat.WriteTrailer(stream);
        await ServerTupleSource.ExecuteAsync(connection, $"DROP TABLE IF EXISTS {twin}; CREATE TABLE {twin} (LIKE {AllTypesServerFixture.Table})");
        await ServerTupleSource.CopyInAsync(connection, twin, stream.WrittenMemory);

        var source = await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, RowsHash, AllTypesServerFixture.Table));
        var copied = await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, RowsHash, twin));
        Assert.Equal(source, copied);
    }

    private static int IdOf(DecodedRow row) => BinaryPrimitives.ReadInt32BigEndian(row.Field(row.IndexOf(1)));

    private static string Hex(byte[]? bytes) =>
        bytes is null ? "NULL" : bytes.Length > 64 ? $"{Convert.ToHexString(bytes[..64])}... ({bytes.Length} bytes)" : Convert.ToHexString(bytes);
}
