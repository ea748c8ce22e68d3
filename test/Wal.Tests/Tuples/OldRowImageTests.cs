using System.Buffers.Binary;
using DataSync.TestRig;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Tests.Values;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Wal.Tests.Tuples;

/// <summary>
/// The old row images DELETE and UPDATE records carry in their main data, per replica identity:
/// DEFAULT logs the key columns (others NULL) when the key changed or on delete; FULL logs the whole
/// old row with TOASTed values inlined. Records are read raw from the live server's pg_wal.
/// </summary>
[Trait("Category", "Server")]
public sealed class OldRowImageTests : IAsyncLifetime
{
    private const byte DeleteContainsOldTuple = 0x02;
    private const byte DeleteContainsOldKey = 0x04;
    private const byte UpdateContainsOldTuple = 0x04;
    private const byte UpdateContainsOldKey = 0x08;

    private ProductionCluster? _cluster;

    public async Task InitializeAsync()
    {
        _cluster = await ProductionCluster.StartAsync("wal-old-rows");
        await using var connection = await OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, """
            CREATE EXTENSION pg_walinspect;
            CREATE TABLE keyed (id int4, code text, payload text, n numeric, PRIMARY KEY (id, code));
            ALTER TABLE keyed ALTER COLUMN payload SET STORAGE EXTERNAL;
            CREATE TABLE full_row (id int4 PRIMARY KEY, payload text, j jsonb, arr int4[], t timestamptz);
            ALTER TABLE full_row REPLICA IDENTITY FULL;
            INSERT INTO keyed VALUES (1, 'a', 'p1', 1.5), (2, 'b', repeat('x', 5000), 2), (3, 'c', 'p3', 3);
            INSERT INTO full_row VALUES (1, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 300) g), '{"k": [1, 2]}', '{1,NULL,3}', 'infinity'),
                                        (2, 'small', NULL, '{}', '2024-01-01 00:00:00+00');
            """);
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    private Task<NpgsqlConnection> OpenAsync() => _cluster!.Server.OpenAsync(ProductionCluster.Database);

    [Fact]
    public async Task Old_keys_and_old_rows_decode_to_the_values_before_the_change()
    {
        await using var connection = await OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "keyed", "full_row");
        var converter = new ValueConverter(snapshot.CreateTypeRegistry());
        var keyed = snapshot.Tables.Single(t => t.Name == "keyed");
        var fullRow = snapshot.Tables.Single(t => t.Name == "full_row");
        Assert.Equal([(short)1, (short)2], keyed.KeyAttNums);
        Assert.Equal('f', fullRow.ReplicaIdentity);
        // FULL logs the whole old row, but a table with a primary key is matched on it (NULLs never match with '=').
        Assert.Equal([(short)1], fullRow.KeyAttNums);

        var keyedBefore = await ServerTupleSource.ServerCopyAsync(connection, "SELECT id, code, NULL::text, NULL::numeric FROM keyed ORDER BY id");
        var fullBefore = await ServerTupleSource.ServerCopyAsync(connection, "SELECT * FROM full_row ORDER BY id");

        var from = await ServerTupleSource.CurrentLsnAsync(connection);
        await ServerTupleSource.ExecuteAsync(connection, """
            DELETE FROM keyed WHERE id = 1;
            UPDATE keyed SET code = 'bb' WHERE id = 2;
            UPDATE keyed SET n = 4 WHERE id = 3;
            DELETE FROM full_row WHERE id = 1;
            UPDATE full_row SET payload = 'changed' WHERE id = 2;
            """);
        var to = await ServerTupleSource.CurrentLsnAsync(connection);

        var records = await ServerTupleSource.WalMainDataAsync(connection, from, to, keyed.RelFileNode, fullRow.RelFileNode);
        Assert.Equal(["DELETE", "UPDATE", "HOT_UPDATE", "DELETE", "HOT_UPDATE"], records.Select(r => r.RecordType));

        var keyedDecoder = new RowDecoder(keyed, converter);
        var fullDecoder = new RowDecoder(fullRow, converter);

        // keyed: DELETE logs the key; the key-changing UPDATE logs it; the other UPDATE logs nothing.
        Assert.Equal(DeleteContainsOldKey, records[0].MainData[7] & (DeleteContainsOldKey | DeleteContainsOldTuple));
        AssertFields(keyedBefore[0], keyedDecoder.DecodeWal(records[0].MainData.AsSpan(8), null), "keyed delete old key");
        Assert.Equal(UpdateContainsOldKey, records[1].MainData[7] & (UpdateContainsOldKey | UpdateContainsOldTuple));
        AssertFields(keyedBefore[1], keyedDecoder.DecodeWal(records[1].MainData.AsSpan(14), null), "keyed update old key");
        Assert.Equal(0, records[2].MainData[7] & (UpdateContainsOldKey | UpdateContainsOldTuple));
        Assert.Equal(14, records[2].MainData.Length);

        // full_row: whole old rows, the TOASTed payload inlined.
        Assert.Equal(DeleteContainsOldTuple, records[3].MainData[7] & (DeleteContainsOldKey | DeleteContainsOldTuple));
        var oldRow = fullDecoder.DecodeWal(records[3].MainData.AsSpan(8), null);
        Assert.False(oldRow.HasUnchangedToast);
        AssertFields(fullBefore[0], oldRow, "full_row delete old row");
        Assert.Equal(UpdateContainsOldTuple, records[4].MainData[7] & (UpdateContainsOldKey | UpdateContainsOldTuple));
        AssertFields(fullBefore[1], fullDecoder.DecodeWal(records[4].MainData.AsSpan(14), null), "full_row update old row");
    }

    private static void AssertFields(byte[]?[] expected, DecodedRow row, string what)
    {
        Assert.Equal(expected.Length, row.FieldCount);
        for (var f = 0; f < row.FieldCount; f++)
        {
            if (expected[f] is null)
            {
                Assert.True(row.State(f) == FieldState.Null, $"{what}, {row.Columns[f].Name}: expected NULL, got {row.State(f)}");
            }
            else
            {
                Assert.True(row.State(f) == FieldState.Value, $"{what}, {row.Columns[f].Name}: expected a value, got {row.State(f)}");
                Assert.True(expected[f].AsSpan().SequenceEqual(row.Field(f)), $"{what}, {row.Columns[f].Name}: bytes differ");
            }
        }

        Assert.NotEqual(0, BinaryPrimitives.ReadInt32BigEndian(row.Field(0)));
    }
}
