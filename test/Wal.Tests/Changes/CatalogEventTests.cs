using DataSync.Wal.Changes;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// TRUNCATE, VACUUM FULL, CLUSTER and DDL on synced tables, on real 18.1 WAL: rows keep flowing
/// through new relfilenodes, truncates are applied, rolled-back ones are not, and definition
/// changes and drops are reported and stop the table's rows.
/// </summary>
public sealed class CatalogEventTests
{
    private const string Ddl = """
        CREATE TABLE t (id int PRIMARY KEY, v text, n int);
        CREATE TABLE u (id int PRIMARY KEY, w text);
        CREATE TABLE other (id int PRIMARY KEY);
        """;

    [Theory]
    [InlineData("off")]
    [InlineData("pglz")]
    public async Task Truncate_vacuum_full_cluster_and_ddl_are_followed(string walCompression)
    {
        await using var rig = await ChangeRig.StartAsync(nameof(Truncate_vacuum_full_cluster_and_ddl_are_followed) + "-" + walCompression, Ddl,
            "INSERT INTO t SELECT g, repeat('x', g % 50), g FROM generate_series(1, 200) g; INSERT INTO u SELECT g, 'w' || g FROM generate_series(1, 50) g;",
            ["public.t", "public.u"], walCompression);
        await rig.CaptureStartAsync();

        var steps = new[]
        {
            "UPDATE t SET n = n + 1 WHERE id % 3 = 0",
            // After a checkpoint the first change to a pg_class page carries its image, not the tuple.
            "CHECKPOINT",
            "VACUUM FULL t",
            "INSERT INTO t SELECT g, 'after vacuum ' || g, g FROM generate_series(201, 260) g",
            "UPDATE t SET v = 'clustered?' WHERE id % 7 = 0",
            "CLUSTER t USING t_pkey",
            "DELETE FROM t WHERE id % 5 = 0",
            "UPDATE t SET n = -n WHERE id > 240",
            "BEGIN; TRUNCATE t; INSERT INTO t VALUES (1, 'rolled back', 1); ROLLBACK",
            "UPDATE t SET v = 'still here' WHERE id = 2",
            "CHECKPOINT",
            "BEGIN; INSERT INTO t VALUES (100000, 'gone with the truncate', 0); TRUNCATE t; INSERT INTO t SELECT g, 'refilled ' || g, g FROM generate_series(1, 30) g; COMMIT",
            "UPDATE t SET n = 42 WHERE id < 10",
            "TRUNCATE other",
            "VACUUM FULL t",
            "DELETE FROM t WHERE id = 3",
            "INSERT INTO u VALUES (1000, 'before alter')",
            "ALTER TABLE u ADD COLUMN x int DEFAULT 7",
            "INSERT INTO u VALUES (1001, 'after alter', 8)",
            "INSERT INTO t VALUES (5000, 'last', 1)",
        };
        foreach (var step in steps) await rig.Production.ExecuteAsync(step);
        await rig.ArchiveAsync();

        await using var local = await rig.OpenLocalAsync();
        var applier = new TestApplier(local);
        CatalogRowTracker tracker;
        using (var decoder = rig.Decoder())
        {
            foreach (var transaction in decoder.Transactions())
            {
                Assert.False(transaction.StartedBeforeDecoding);
                await applier.ApplyAsync(transaction);
            }

            tracker = decoder.Reassembler.CatalogTracker!;
            // What a restart from here would start with: t's current file and catalog row position.
            var (catalog, locations) = decoder.Reassembler.CurrentCatalog();
            var t = catalog.Tables.Single(x => x.Name == "t");
            Assert.Equal(await rig.Production.QueryScalarAsync<long>("SELECT pg_relation_filenode('t')::bigint"), t.RelFileNode);
            Assert.Equal(await rig.Production.QueryScalarAsync<long>("SELECT pg_relation_filenode(reltoastrelid)::bigint FROM pg_class WHERE relname = 't'"), t.ToastRelFileNode);
            var row = locations!.Rows.Single(r => r.RelationOid == t.RelationOid && r.IsClassRow);
            Assert.Equal(await rig.Production.QueryScalarAsync<string>("SELECT ctid::text FROM pg_class WHERE relname = 't'"), $"({row.Block},{row.Offnum})");
        }

        await rig.AssertSameAsync("t", "id");
        var events = applier.Events.Select(e => e switch
        {
            TruncateEvent truncate => "truncate " + string.Join(",", truncate.Tables.Select(x => x.Name)),
            RelfilenodeChangedEvent refiled => "refiled " + refiled.Table.Name,
            SchemaChangedEvent changed => $"schema {changed.Table.Name}: {changed.What}",
            _ => e.ToString()!,
        }).ToList();
        Assert.Equal(
        [
            "refiled t", // VACUUM FULL
            "refiled t", // CLUSTER
            "refiled t", // TRUNCATE in the committed transaction
            "truncate t",
            "refiled t", // second VACUUM FULL
            "schema u: a column was added",
        ], events);
        Assert.True(tracker.ReadFromImages > 0, "no pg_class update carried a page image");
        Assert.True(tracker.ReadFromData > 0, "no pg_class update carried tuple data");

        // u's rows stop at the ALTER: the insert before it arrived, the one after it did not.
        Assert.Equal(1L, await rig.Local.QueryScalarAsync<long>("SELECT count(*) FROM u WHERE id = 1000"));
        Assert.Equal(0L, await rig.Local.QueryScalarAsync<long>("SELECT count(*) FROM u WHERE id = 1001"));
    }

    [Fact]
    public async Task Drop_and_column_changes_are_schema_changes()
    {
        await using var rig = await ChangeRig.StartAsync(nameof(Drop_and_column_changes_are_schema_changes), Ddl,
            "INSERT INTO t VALUES (1, 'a', 1); INSERT INTO u VALUES (1, 'b');", ["public.t", "public.u"]);
        await rig.CaptureStartAsync();
        var seen = await rig.DescribeChangesAfterAsync(
        [
            "BEGIN; ALTER TABLE t DROP COLUMN n; ROLLBACK",
            "INSERT INTO t VALUES (2, 'b', 2)",
            "ALTER TABLE t ALTER COLUMN v SET NOT NULL",
            "INSERT INTO t VALUES (3, 'c', 3)",
            "ALTER TABLE t DROP CONSTRAINT t_pkey, ADD PRIMARY KEY (id, n)",
            "INSERT INTO t VALUES (4, 'd', 4)",
            "DROP TABLE u",
        ]);

        // SET NOT NULL changes no column's shape: the row after it still arrives. A new primary key changes the key.
        Assert.Equal(["Insert t", "Insert t", "schema t: a primary key or replica identity index was added", "schema u: dropped"], seen);
    }

    [Fact]
    public async Task Without_catalog_locations_a_replaced_file_stops_the_table()
    {
        await using var rig = await ChangeRig.StartAsync(nameof(Without_catalog_locations_a_replaced_file_stops_the_table), Ddl,
            "INSERT INTO t VALUES (1, 'a', 1)", ["public.t"]);
        await rig.CaptureStartAsync();
        foreach (var step in new[] { "INSERT INTO t VALUES (2, 'b', 2)", "VACUUM FULL t", "INSERT INTO t VALUES (3, 'c', 3)" })
            await rig.Production.ExecuteAsync(step);
        await rig.ArchiveAsync();

        var seen = new List<string>();
        using var decoder = rig.Decoder(followCatalogRows: false);
        foreach (var transaction in decoder.Transactions())
        {
            foreach (var change in transaction.Changes)
                seen.Add(change is SchemaChangedEvent changed ? $"schema {changed.Table.Name}: {changed.What}" : change.ToString()!.Split(' ')[0]);
        }

        Assert.Equal(["Insert", "schema t: its file was replaced or dropped without a catalog change the decoder could follow"], seen);
    }
}
