namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// ALTER TYPE on a composite type a synced table uses (directly, or in an array of another composite), and ALTER
/// TABLE on a table whose row type one uses, and a renamed attribute (an updated pg_attribute row), on real 18.1 WAL: every table using the type is reported changed and
/// its rows stop; a rolled-back ALTER and tables that do not use the type are left alone.
/// </summary>
public sealed class CompositeTypeChangeTests
{
    private const string Ddl = """
        CREATE TYPE pair AS (a int, b text);
        CREATE TYPE holder AS (p pair, n int);
        CREATE TABLE shape (x int);
        CREATE TABLE t (id int PRIMARY KEY, p pair);
        CREATE TABLE u (id int PRIMARY KEY, h holder[]);
        CREATE TABLE v (id int PRIMARY KEY, n int);
        CREATE TABLE w (id int PRIMARY KEY, s shape);
        CREATE TYPE tag AS (s text);
        CREATE TABLE x (id int PRIMARY KEY, tg tag);
        """;

    [Fact]
    public async Task Altering_a_used_composite_type_stops_every_table_using_it()
    {
        await using var rig = await ChangeRig.StartAsync(nameof(Altering_a_used_composite_type_stops_every_table_using_it), Ddl,
            "INSERT INTO t VALUES (1, ROW(1, 'a')); INSERT INTO u VALUES (1, ARRAY[ROW(ROW(1, 'a'), 1)::holder]); INSERT INTO w VALUES (1, ROW(1));",
            ["public.t", "public.u", "public.v", "public.w", "public.x"]);
        await rig.CaptureStartAsync();
        var seen = await rig.DescribeChangesAfterAsync(
        [
            "BEGIN; ALTER TYPE pair ADD ATTRIBUTE c int; ROLLBACK",
            "INSERT INTO t VALUES (2, ROW(2, 'b'))",
            "BEGIN; ALTER TYPE pair DROP ATTRIBUTE b; ROLLBACK",
            "INSERT INTO t VALUES (5, ROW(5, 'e'))",
            "ALTER TYPE pair ADD ATTRIBUTE c int",
            "INSERT INTO t VALUES (3, ROW(3, 'c', 3))",
            "INSERT INTO u VALUES (3, NULL)",
            "INSERT INTO v VALUES (3, 3)",
            "INSERT INTO w VALUES (3, ROW(3))",
            "ALTER TABLE shape ADD COLUMN y text",
            "INSERT INTO w VALUES (4, ROW(4, 'y'))",
            "INSERT INTO v VALUES (4, 4)",
            "INSERT INTO x VALUES (4, ROW('four'))",
            "ALTER TYPE tag RENAME ATTRIBUTE s TO label",
            "INSERT INTO x VALUES (5, ROW('five'))",
        ]);

        const string pair = "the composite type public.pair it uses was altered (an attribute added, dropped or changed)";
        Assert.Equal(
        [
            "Insert t",
            "Insert t",
            $"schema t: {pair}",
            $"schema u: {pair}",
            "Insert v",
            "Insert w",
            "schema w: the composite type public.shape it uses was altered (an attribute added, dropped or changed)",
            "Insert v",
            "Insert x",
            "schema x: the composite type public.tag it uses was altered (an attribute added, dropped or changed)",
        ], seen);
    }
}
