using DataSync.Wal.Changes;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// Columns followed through ALTERs on real 18.1 WAL (<see cref="ReassemblerOptions.FollowSchemaChanges"/>): each
/// ALTER comes out as a <see cref="TableAlteredEvent"/> at its place among the table's rows, rows before it carry the
/// old columns and rows after it the new ones; the value of a column added with a constant default is read from its
/// pg_attribute row (attmissingval); after a checkpoint the catalog rows come as page images and are read there. A
/// type change that is not a widening stops its table alone, saying what changed.
/// </summary>
public sealed class SchemaFollowDecodingTests
{
    private const string Ddl = """
        CREATE TABLE t (id int PRIMARY KEY, v text, n int);
        CREATE TABLE u (id int PRIMARY KEY, small smallint, big int);
        """;

    [Fact]
    public async Task Added_renamed_dropped_and_widened_columns_change_the_rows_at_their_place()
    {
        await using var rig = await ChangeRig.StartAsync(nameof(Added_renamed_dropped_and_widened_columns_change_the_rows_at_their_place), Ddl,
            "INSERT INTO t VALUES (1, 'a', 1); INSERT INTO u VALUES (1, 1, 1);", ["public.t", "public.u"]);
        await rig.CaptureStartAsync();
        string[] statements =
        [
            "BEGIN; INSERT INTO t VALUES (2, 'b', 2); ALTER TABLE t ADD COLUMN plain int; INSERT INTO t VALUES (3, 'c', 3, 33); COMMIT",
            "CHECKPOINT",
            "ALTER TABLE t ADD COLUMN d text NOT NULL DEFAULT 'it''s', ADD COLUMN k numeric(5,2) DEFAULT 1.5",
            "UPDATE t SET n = 10 WHERE id = 1",
            "ALTER TABLE t RENAME COLUMN v TO w",
            "ALTER TABLE t DROP COLUMN n",
            "INSERT INTO t VALUES (4, 'd', 44, 'x', 2.25)",
            "ALTER TABLE t ALTER COLUMN k TYPE numeric(9,2)",
            "BEGIN; INSERT INTO u VALUES (2, 2, 2); ALTER TABLE u ALTER COLUMN small TYPE int, ALTER COLUMN big TYPE bigint; INSERT INTO u VALUES (3, 300000, 30000000000); COMMIT",
            // A rewrite of a table with a TOAST relation: it gets the new heap's, whose chunks later rows point into.
            "BEGIN; ALTER TABLE t ALTER COLUMN plain TYPE bigint; INSERT INTO t VALUES (5, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 400) g), 5, 'y', 1); COMMIT",
            "UPDATE t SET d = 'after the rewrite' WHERE id = 5",
            // A value per row (volatile default): the rows as the rewrite wrote them replace the table's, TOASTed values included.
            "ALTER TABLE t ADD COLUMN g uuid DEFAULT gen_random_uuid()",
            "ALTER TABLE t ALTER COLUMN w TYPE int USING length(w)",
            "INSERT INTO t VALUES (6, 6, 6, 'z', 1)",
            "INSERT INTO u VALUES (4, 4, 4)",
            "BEGIN; ALTER TABLE u ADD COLUMN r float8 DEFAULT random(), ADD COLUMN s serial; UPDATE u SET small = small + 1 WHERE id = 1; COMMIT",
        ];
        foreach (var statement in statements) await rig.Production.ExecuteAsync(statement);
        await rig.ArchiveAsync();

        var seen = new List<string>();
        var toasted = 0;
        using var decoder = rig.Decoder(new ReassemblerOptions { FollowSchemaChanges = true });
        foreach (var transaction in decoder.Transactions())
        {
            foreach (var change in transaction.Changes)
            {
                seen.Add(change switch
                {
                    RowChange row => $"{row.Kind} {row.Table.Name} {string.Join(",", row.NewRow?.Columns.Select(c => c.Name) ?? [])}",
                    TableAlteredEvent altered => $"altered {altered.Table.Name}: {string.Join("; ", altered.Alterations)}",
                    SchemaChangedEvent changed => $"schema {changed.Table.Name}: {changed.What}",
                    RelfilenodeChangedEvent refiled => $"rewritten {refiled.Table.Name}",
                    _ => change.GetType().Name,
                });
                if (change is RowChange { Kind: ChangeKind.Insert, NewRow: { } inserted } && inserted.Table.Name == "t" && inserted.Columns[1].Name == "w"
                    && inserted.Field(0).SequenceEqual(new byte[] { 0, 0, 0, 5 }))
                {
                    // The TOASTed value after a rewrite, read from the new TOAST relation's chunks (inserted, then rewritten).
                    Assert.False(inserted.HasUnchangedToast);
                    Assert.Equal(12800, inserted.Field(1).Length);
                    toasted++;
                }

                if (change is TableAlteredEvent { Alterations: [ColumnAlteration.Added { Column.Name: "d" } d, ColumnAlteration.Added k] })
                {
                    // The values the rows already there take, in send form: text 'it''s', numeric 1.50.
                    Assert.Equal("it's"u8.ToArray(), d.Column.MissingValue);
                    Assert.Equal(new byte[] { 0, 2, 0, 0, 0, 0, 0, 2, 0, 1, 0x13, 0x88 }, k.Column.MissingValue);
                }
            }
        }

        Assert.Equal(
        [
            "Insert t id,v,n",
            "altered t: column \"plain\" added (int4)",
            "Insert t id,v,n,plain",
            "altered t: column \"d\" added (text, with a default the rows already there take); column \"k\" added (numeric(5,2), with a default the rows already there take)",
            "Update t id,v,n,plain,d,k",
            "altered t: column \"v\" renamed to \"w\"",
            "altered t: column \"n\" dropped",
            "Insert t id,w,plain,d,k",
            "altered t: column \"k\" changed type from numeric(5,2) to numeric(9,2)",
            "Insert u id,small,big",
            "rewritten u",
            "altered u: column \"small\" changed type from int2 to int4; column \"big\" changed type from int4 to int8",
            "Insert u id,small,big",
            "rewritten t",
            "altered t: column \"plain\" changed type from int4 to int8",
            "Insert t id,w,plain,d,k",
            "Update t id,w,plain,d,k",
            "altered t: column \"g\" added (uuid)",
            "TruncateEvent",
            .. Enumerable.Repeat("Insert t id,w,plain,d,k,g", 5),
            "rewritten t",
            "rewritten t",
            "schema t: column \"w\" changed type from text to int4, which is not a widening the sync follows (int2 to int4 or int8, int4 to int8, " +
            "varchar(n) to varchar(m) with m ≥ n or to text, numeric(p,s) to a numeric with no fewer digits before and after the point)",
            "Insert u id,small,big",
            "altered u: column \"r\" added (float8); column \"s\" added (int4)",
            "TruncateEvent",
            .. Enumerable.Repeat("Insert u id,small,big,r,s", 4),
            "rewritten u",
            "Update u id,small,big,r,s",
        ], seen);
        Assert.Equal(2, toasted);
        // What a restart would decode with: the columns as they are now.
        var u = decoder.Reassembler.CurrentCatalog().Catalog.Tables.Single(t => t.Name == "u");
        Assert.Equal(new uint[] { 23, 23, 20, 701, 23 }, u.Columns.Select(c => c.TypeOid));
    }
}
