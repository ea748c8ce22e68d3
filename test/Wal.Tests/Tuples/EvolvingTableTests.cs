using System.Buffers.Binary;
using DataSync.TestRig;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Tests.Values;
using DataSync.Wal.Toast;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Wal.Tests.Tuples;

/// <summary>
/// A table whose shape changed after rows were written (columns added with and without defaults, a
/// column dropped) and whose rows are then updated: old tuples lack the added columns, all carry
/// the dropped one, and an UPDATE that leaves a TOASTed column alone re-uses its pointer.
/// </summary>
[Trait("Category", "Server")]
public sealed class EvolvingTableTests : IAsyncLifetime
{
    private ProductionCluster? _cluster;

    public async Task InitializeAsync()
    {
        _cluster = await ProductionCluster.StartAsync("wal-evolving");
        await using var connection = await OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, """
            CREATE EXTENSION pageinspect; CREATE EXTENSION pg_walinspect;
            CREATE TABLE evo (id int4 PRIMARY KEY, a text, b int4, big text,
                              twice int4 GENERATED ALWAYS AS (b * 2) STORED, thrice int4 GENERATED ALWAYS AS (b * 3) VIRTUAL);
            ALTER TABLE evo ALTER COLUMN big SET STORAGE EXTERNAL;
            INSERT INTO evo (id, a, b, big) VALUES (1, 'one', 10, NULL), (2, NULL, 20, repeat('q', 5000)), (4, 'four', NULL, 'small');
            ALTER TABLE evo ADD COLUMN c int4 DEFAULT 42;
            ALTER TABLE evo ADD COLUMN d text DEFAULT 'dflt ünï';
            ALTER TABLE evo ADD COLUMN e int4;
            ALTER TABLE evo ADD COLUMN f jsonb DEFAULT '{"a": [1, null], "b": 1.50}';
            ALTER TABLE evo ADD COLUMN g int4[] DEFAULT '{1,NULL}';
            ALTER TABLE evo ADD COLUMN h numeric DEFAULT NULL;
            ALTER TABLE evo ADD COLUMN i timestamptz DEFAULT '2020-01-01 00:00:00+00';
            ALTER TABLE evo DROP COLUMN a;
            INSERT INTO evo (id, b, big, c, d, e, f, g, h, i) VALUES (3, 30, repeat('r', 4000), 7, 'x', 8, '[]', '{}', 1.5, 'infinity');
            """);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    private Task<NpgsqlConnection> OpenAsync() => _cluster!.Server.OpenAsync(ProductionCluster.Database);

    [Fact]
    public async Task Old_tuples_take_added_defaults_and_skip_the_dropped_column()
    {
        await using var connection = await OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        Assert.True(table.Columns.Single(c => c.Name.Contains("dropped", StringComparison.Ordinal)).IsDropped);
        Assert.True(table.Columns.Single(c => c.Name == "c").HasMissing);
        Assert.Null(table.Columns.Single(c => c.Name == "e").MissingValue);

        var toast = new ToastChunkStore();
        foreach (var tuple in await ServerTupleSource.PageTuplesAsync(connection, $"pg_toast.pg_toast_{table.RelationOid}"))
            toast.AddPageTuple(table.ToastRelationOid, tuple);
        var decoder = new RowDecoder(table, converter);
        var pageTuples = await ServerTupleSource.PageTuplesAsync(connection, "evo");
        Assert.Contains(pageTuples, t => (BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(18)) & 0x7FF) == 6);
        var rows = pageTuples.Select(t => decoder.DecodePage(t, toast)).OrderBy(IdOf).ToList();

        Assert.Equal(["id", "b", "big", "c", "d", "e", "f", "g", "h", "i"], table.CopiedColumns.Select(c => c.Name));
        var server = await ServerTupleSource.ServerCopyAsync(connection, $"SELECT {CopiedColumns(table)} FROM evo ORDER BY id");
        AssertSameFields(server, rows, allowUnchangedToast: false);

        var stream = new SendBuffer();
        CopyBinaryFormat.WriteHeader(stream);
        foreach (var row in rows) CopyBinaryFormat.WriteRow(row, stream);
        CopyBinaryFormat.WriteTrailer(stream);
        await ServerTupleSource.ExecuteAsync(connection, "CREATE TABLE evo_twin (LIKE evo INCLUDING GENERATED)");
        await ServerTupleSource.CopyInAsync(connection, "evo_twin", stream.WrittenMemory);
        const string hash = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM {0} AS t";
        Assert.Equal(
            await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, hash, "evo")),
            await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, hash, "evo_twin")));
    }

    [Fact]
    public async Task Updates_decode_from_wal_and_an_untouched_toasted_column_is_reported_unchanged()
    {
        await using var connection = await OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        var from = await ServerTupleSource.CurrentLsnAsync(connection);
        await ServerTupleSource.ExecuteAsync(connection, """
            UPDATE evo SET b = b + 1 WHERE id = 2;
            UPDATE evo SET big = repeat('s', 6000) WHERE id = 3;
            UPDATE evo SET id = 10 WHERE id = 1;
            UPDATE evo SET c = NULL, d = 'changed' WHERE id = 4;
            """);
        var to = await ServerTupleSource.CurrentLsnAsync(connection);

        var toast = new ToastChunkStore();
        var decoder = new RowDecoder(table, converter);
        var rows = new List<DecodedRow>();
        var kinds = new List<string>();
        foreach (var block in await ServerTupleSource.WalBlocksAsync(connection, from, to, table.RelFileNode, table.ToastRelFileNode))
        {
            if (block.RelFileNode == table.ToastRelFileNode)
            {
                // The replaced value's chunks are deleted; only inserted chunks matter.
                if (!block.RecordType.StartsWith("INSERT", StringComparison.Ordinal)) continue;
                toast.AddWalTuple(table.ToastRelationOid, block.Data);
                continue;
            }

            kinds.Add(block.RecordType);
            // Row locks (Heap LOCK) touch the page too, without tuple data.
            if (block.RecordType is not ("UPDATE" or "HOT_UPDATE")) continue;
            // Under wal_level=logical user-table updates carry the whole new tuple, no prefix/suffix.
            var row = decoder.DecodeWal(block.Data, toast);
            rows.Add(row);
            var stream = new SendBuffer();
            stream.WriteInt32(7);
            Assert.Equal(!row.HasUnchangedToast, decoder.TryWriteCopyRowWal(block.Data, toast, stream));
            Assert.Equal(row.HasUnchangedToast ? 4 : 4 + row.CopyTuple.Length, stream.Length);
        }

        Assert.Contains("HOT_UPDATE", kinds);
        Assert.Contains("UPDATE", kinds);
        rows = rows.OrderBy(IdOf).ToList();
        Assert.Equal([2, 3, 4, 10], rows.Select(IdOf));

        var big = rows[0].IndexOf(table.Columns.Single(c => c.Name == "big").AttNum);
        Assert.True(rows[0].HasUnchangedToast);
        Assert.Equal(FieldState.UnchangedToast, rows[0].State(big));
        Assert.Equal(FieldState.Value, rows[1].State(big));
        Assert.Throws<InvalidOperationException>(() => CopyBinaryFormat.WriteRow(rows[0], new SendBuffer()));

        var server = await ServerTupleSource.ServerCopyAsync(connection, $"SELECT {CopiedColumns(table)} FROM evo WHERE id IN (2, 3, 4, 10) ORDER BY id");
        AssertSameFields(server, rows, allowUnchangedToast: true);
    }

    private static void AssertSameFields(List<byte[]?[]> server, List<DecodedRow> rows, bool allowUnchangedToast)
    {
        Assert.Equal(server.Count, rows.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            Assert.Equal(server[r].Length, rows[r].FieldCount);
            for (var f = 0; f < rows[r].FieldCount; f++)
            {
                var what = $"id {IdOf(rows[r])}, column {rows[r].Columns[f].Name}";
                switch (rows[r].State(f))
                {
                    case FieldState.Null:
                        Assert.True(server[r][f] is null, what + " should not be NULL");
                        break;
                    case FieldState.Value:
                        Assert.True(server[r][f] is not null, what + " should be NULL");
                        Assert.True(server[r][f].AsSpan().SequenceEqual(rows[r].Field(f)), what + " differs");
                        break;
                    default:
                        Assert.True(allowUnchangedToast, what + " is unchanged TOAST");
                        break;
                }
            }
        }
    }

    private static async Task<(TableDescriptor, ValueConverter)> CatalogAsync(NpgsqlConnection connection)
    {
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "evo");
        return (Assert.Single(snapshot.Tables), new ValueConverter(snapshot.CreateTypeRegistry()));
    }

    private static string CopiedColumns(TableDescriptor table) => string.Join(", ", table.CopiedColumns.Select(c => c.Name));

    private static int IdOf(DecodedRow row) => BinaryPrimitives.ReadInt32BigEndian(row.Field(row.IndexOf(1)));
}
