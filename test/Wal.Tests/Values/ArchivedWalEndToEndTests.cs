using System.Buffers.Binary;
using DataSync.TestRig;
using DataSync.Wal.Catalog;
using DataSync.Wal.Records;
using DataSync.Wal.Rmgr;
using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Typed;
using DataSync.Wal.Values;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// End to end on archived WAL: the record reader reads the segments production archived, the typed
/// heap records hand their tuples to the row decoder, and replaying inserts, updates (with
/// unchanged TOAST merged from the previous image), deletes and COPY's multi-inserts rebuilds the
/// table exactly as production has it.
/// </summary>
[Trait("Category", "Server")]
public sealed class ArchivedWalEndToEndTests
{
    [Fact]
    public async Task Replaying_archived_wal_rebuilds_every_type_exactly()
    {
        await using var cluster = await ProductionCluster.StartAsync("wal-values-e2e");
        await using var connection = await cluster.Server.OpenAsync(ProductionCluster.Database);
        await ServerTupleSource.ExecuteAsync(connection, AllTypesServerFixture.Ddl);
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, AllTypesServerFixture.Table);
        var table = Assert.Single(snapshot.Tables);
        var start = Lsn.Parse(await ServerTupleSource.CurrentLsnAsync(connection));

        await ServerTupleSource.ExecuteAsync(connection, AllTypesServerFixture.Data);
        await ServerTupleSource.ExecuteAsync(connection, """
            UPDATE all_types SET c_int4 = 600 WHERE id = 6;
            UPDATE all_types SET c_text = repeat('new ', 10000), c_int2 = 9 WHERE id = 9;
            UPDATE all_types SET id = 12 WHERE id = 11;
            DELETE FROM all_types WHERE id = 3;
            CREATE TABLE staging AS SELECT * FROM all_types WHERE id IN (2, 4, 6, 10);
            UPDATE staging SET id = id + 200;
            """);
        using (var staged = new MemoryStream())
        {
            await using (var read = await connection.BeginRawBinaryCopyAsync("COPY staging TO STDOUT (FORMAT binary)"))
                await read.CopyToAsync(staged);
            await ServerTupleSource.CopyInAsync(connection, AllTypesServerFixture.Table, staged.ToArray());
        }

        await cluster.SwitchSegmentAndWaitArchivedAsync();

        var decoder = new RowDecoder(table, new ValueConverter(snapshot.CreateTypeRegistry()));
        var toast = new ToastChunkStore();
        var rows = new SortedDictionary<int, byte[]?[]>();
        var seen = new Dictionary<string, int>();
        using (var reader = WalRecordReader.OpenFiles(cluster.ArchivedSegments(), new WalReaderOptions { StartLsn = start }))
        {
            while (reader.MoveNext())
            {
                var record = reader.Current;
                var op = record.Info & 0x70;
                // Chunks live as long as their transaction, as a reassembling decoder would keep them.
                if (record.Rmgr == RmgrId.Transaction) toast.Clear();
                else if (record.Rmgr == RmgrId.Heap && op == HeapOpcodes.Insert)
                {
                    var insert = HeapInsert.Parse(record);
                    if (insert.Relation.RelNumber == table.ToastRelFileNode) toast.AddTuple(table.ToastRelationOid, insert.Tuple);
                    else if (insert.Relation.RelNumber == table.RelFileNode) Apply(rows, null, decoder.Decode(insert.Tuple, toast), seen, "insert");
                }
                else if (record.Rmgr == RmgrId.Heap2 && op == HeapOpcodes.Heap2MultiInsert)
                {
                    var multi = Heap2MultiInsert.Parse(record);
                    if (multi.Relation.RelNumber != table.RelFileNode) continue;
                    foreach (var tuple in multi) Apply(rows, null, decoder.Decode(tuple, toast), seen, "multi-insert");
                }
                else if (record.Rmgr == RmgrId.Heap && op is HeapOpcodes.Update or HeapOpcodes.HotUpdate)
                {
                    var update = HeapUpdate.Parse(record);
                    if (update.Relation.RelNumber != table.RelFileNode) continue;
                    int? oldId = update.ContainsOldKey ? IdOf(decoder.Decode(update.OldTuple, null)) : null;
                    Apply(rows, oldId, decoder.Decode(update.NewTuple, toast), seen, update.IsHot ? "hot update" : "update");
                }
                else if (record.Rmgr == RmgrId.Heap && op == HeapOpcodes.Delete)
                {
                    var delete = HeapDelete.Parse(record);
                    if (delete.Relation.RelNumber != table.RelFileNode) continue;
                    Assert.True(delete.ContainsOldKey);
                    Assert.True(rows.Remove(IdOf(decoder.Decode(delete.OldTuple, null))));
                    seen["delete"] = seen.GetValueOrDefault("delete") + 1;
                }
            }
        }

        Assert.Equal(["delete", "hot update", "insert", "multi-insert", "unchanged toast merged", "update"], seen.Keys.Order(StringComparer.Ordinal));
        Assert.True(seen.GetValueOrDefault("unchanged toast merged") > 0, "an untouched TOASTed column should have been merged");

        var server = await ServerTupleSource.ServerCopyAsync(connection, "SELECT * FROM all_types ORDER BY id");
        Assert.Equal(server.Count, rows.Count);
        var r = 0;
        foreach (var (id, fields) in rows)
        {
            for (var f = 0; f < fields.Length; f++)
            {
                Assert.True(server[r][f] is null == fields[f] is null && (fields[f] is null || server[r][f].AsSpan().SequenceEqual(fields[f])),
                    $"id {id}, {decoder.Columns[f].Name} differs from production");
            }

            r++;
        }
    }

    /// <summary>Puts a decoded image in place, taking unchanged TOAST fields from the image it replaces.</summary>
    private static void Apply(SortedDictionary<int, byte[]?[]> rows, int? oldId, DecodedRow row, Dictionary<string, int> seen, string kind)
    {
        seen[kind] = seen.GetValueOrDefault(kind) + 1;
        var id = IdOf(row);
        rows.TryGetValue(oldId ?? id, out var previous);
        if (oldId is { } moved && moved != id) rows.Remove(moved);
        var fields = new byte[]?[row.FieldCount];
        for (var f = 0; f < row.FieldCount; f++)
        {
            switch (row.State(f))
            {
                case FieldState.Value:
                    fields[f] = row.Field(f).ToArray();
                    break;
                case FieldState.UnchangedToast:
                    Assert.NotNull(previous);
                    fields[f] = previous[f];
                    seen["unchanged toast merged"] = seen.GetValueOrDefault("unchanged toast merged") + 1;
                    break;
            }
        }

        rows[id] = fields;
    }

    private static int IdOf(DecodedRow row) => BinaryPrimitives.ReadInt32BigEndian(row.Field(0));
}
