using DataSync.Wal.Changes;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// Catalog changes that leave what is synced alone (privileges, triggers, comments, indexes, statistics,
/// storage options, and rewrites of pg_class and pg_attribute themselves), on real 18.1 WAL: no table
/// stops, rows keep flowing; a real definition change after a rewritten pg_class still stops its table alone.
/// </summary>
public sealed class CatalogNoiseTests
{
    private const string Ddl = """
        CREATE TABLE t (id int PRIMARY KEY, v text, n int);
        CREATE TABLE u (id int PRIMARY KEY, w text);
        CREATE ROLE reader;
        CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
        """;

    [Theory]
    [InlineData("off")]
    [InlineData("pglz")]
    public async Task Catalog_noise_and_catalog_rewrites_stop_no_table(string walCompression)
    {
        await using var rig = await ChangeRig.StartAsync(nameof(Catalog_noise_and_catalog_rewrites_stop_no_table) + "-" + walCompression, Ddl,
            "INSERT INTO t SELECT g, 'v' || g, g FROM generate_series(1, 100) g; INSERT INTO u SELECT g, 'w' || g FROM generate_series(1, 50) g;",
            ["public.t", "public.u"], walCompression);
        await rig.CaptureStartAsync();

        var commands = new[]
        {
            "GRANT SELECT ON t, u TO reader",
            // After a checkpoint the first change to a pg_class page carries its image, not the tuple.
            "CHECKPOINT",
            "GRANT INSERT, UPDATE ON t, u TO reader",
            "REVOKE UPDATE ON t FROM reader",
            "CREATE TRIGGER t_noop BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION noop()",
            "CHECKPOINT",
            "CREATE TRIGGER u_noop AFTER UPDATE ON u FOR EACH ROW EXECUTE FUNCTION noop()",
            "COMMENT ON TABLE t IS 'the t table'",
            "COMMENT ON COLUMN u.w IS 'the w column'",
            "CREATE INDEX t_v ON t (v)",
            "CREATE INDEX u_w ON u (w)",
            "CREATE UNIQUE INDEX u_w_unique ON u (w)",
            "REINDEX TABLE CONCURRENTLY t",
            "ANALYZE t",
            "ANALYZE",
            "VACUUM t",
            "GRANT SELECT (w) ON u TO reader",
            "ALTER TABLE t ALTER COLUMN n SET STATISTICS 500",
            "ALTER TABLE t SET (fillfactor = 80)",
            "ALTER TABLE t ALTER COLUMN v SET NOT NULL",
            "SELECT pg_switch_wal()",
            "VACUUM FULL pg_class",
            "GRANT DELETE ON t, u TO reader",
            "VACUUM FULL pg_attribute",
            "GRANT SELECT (v) ON t TO reader",
            "SELECT pg_switch_wal()",
            "CHECKPOINT",
            "VACUUM FULL pg_class",
            "VACUUM FULL pg_attribute",
            "CREATE TRIGGER t_noop2 AFTER DELETE ON t FOR EACH ROW EXECUTE FUNCTION noop()",
            "VACUUM FULL t",
            "TRUNCATE u",
        };
        var step = 0;
        foreach (var command in commands)
        {
            await rig.Production.ExecuteAsync(command);
            step++;
            await rig.Production.ExecuteAsync($"INSERT INTO t VALUES ({1000 + step}, 'after {step}', {step}); UPDATE t SET n = n + 1 WHERE id = {step}; " +
                                              $"INSERT INTO u VALUES ({1000 + step}, 'after {step}'); DELETE FROM u WHERE id = {step}");
        }

        await rig.ArchiveAsync();
        await using var local = await rig.OpenLocalAsync();
        var applier = new TestApplier(local);
        using (var decoder = rig.Decoder())
        {
            foreach (var transaction in decoder.Transactions()) await applier.ApplyAsync(transaction);
            var (_, locations) = decoder.Reassembler.CurrentCatalog();
            // Where a restart would look: the rewritten catalogs' files and the rows' positions in them.
            Assert.Equal(await rig.Production.QueryScalarAsync<long>("SELECT pg_relation_filenode('pg_class')::bigint"), locations!.PgClassRelFileNode);
            Assert.Equal(await rig.Production.QueryScalarAsync<long>("SELECT pg_relation_filenode('pg_attribute')::bigint"), locations.PgAttributeRelFileNode);
            var t = rig.Catalog.Tables.Single(x => x.Name == "t");
            var row = locations.Rows.Single(r => r.RelationOid == t.RelationOid && r.IsClassRow);
            Assert.Equal(await rig.Production.QueryScalarAsync<string>("SELECT ctid::text FROM pg_class WHERE relname = 't'"), $"({row.Block},{row.Offnum})");
            var column = locations.Rows.Single(r => r.RelationOid == t.RelationOid && r.AttNum == 2);
            Assert.Equal(await rig.Production.QueryScalarAsync<string>($"SELECT ctid::text FROM pg_attribute WHERE attrelid = {t.RelationOid} AND attnum = 2"),
                $"({column.Block},{column.Offnum})");
        }

        Assert.DoesNotContain(applier.Events, e => e is SchemaChangedEvent);
        await rig.AssertSameAsync("t", "id");
        await rig.AssertSameAsync("u", "id");
    }

    [Fact]
    public async Task A_column_added_after_pg_class_was_rewritten_stops_its_table_alone()
    {
        await using var rig = await ChangeRig.StartAsync(nameof(A_column_added_after_pg_class_was_rewritten_stops_its_table_alone), Ddl,
            "INSERT INTO t VALUES (1, 'a', 1); INSERT INTO u VALUES (1, 'b');", ["public.t", "public.u"]);
        await rig.CaptureStartAsync();
        var seen = await rig.DescribeChangesAfterAsync(
        [
            "VACUUM FULL pg_class",
            "INSERT INTO u VALUES (2, 'c')",
            "ALTER TABLE u ADD COLUMN x int",
            "INSERT INTO u VALUES (3, 'd', 3)",
            "INSERT INTO t VALUES (2, 'e', 2)",
            "ALTER TABLE t RENAME COLUMN n TO m",
            "INSERT INTO t VALUES (3, 'f', 3)",
        ]);

        Assert.Equal(["Insert u", "schema u: a column was added", "Insert t", "schema t: column 3 changed (attname)"], seen);
    }
}
