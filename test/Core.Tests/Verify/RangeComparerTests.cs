using DataSync.Core.Apply;
using DataSync.Core.Bootstrap;
using DataSync.Core.Tables;
using DataSync.Core.Verify;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Verify;

/// <summary>
/// The range comparison and the repair on two real databases standing for production and the local copy: identical
/// tables hash identical range by range; a changed, a deleted and an inserted row (one on a range boundary, keys with
/// quotes and upper case) are named exactly, with nothing else; the repair makes the copy identical again.
/// </summary>
public sealed class RangeComparerTests
{
    private const string Ddl = """
        CREATE TABLE "Lines" (region text, n int, label text, amount numeric(12,2), at timestamptz, tags text[], PRIMARY KEY (region, n));
        INSERT INTO "Lines" SELECT CASE WHEN g % 3 = 0 THEN 'O''Brien' WHEN g % 3 = 1 THEN 'Zed' ELSE 'alpha' END, g, 'row ' || g, g * 1.25,
            timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour', ARRAY['a', 'b' || g]
        FROM generate_series(1, 250) g;
        """;

    private static readonly TableName Lines = new("public", "Lines");

    [Fact]
    public async Task Names_exactly_the_changed_rows_across_ranges_and_the_repair_makes_the_tables_identical()
    {
        await using var cluster = await LocalCluster.StartAsync("range-compare");
        var (theirs, ours) = await TwoSidesAsync(cluster, Ddl);
        await using var theirsOpen = theirs;
        await using var oursOpen = ours;

        var table = await ComparedTable.ReadAsync(ours, Lines, CancellationToken.None);
        Assert.Equal(["region", "n"], table.Key.Select(k => k.Name));
        var comparer = new RangeComparer(table, rangeRows: 40);

        var same = await comparer.CompareAsync(theirs, ours, null, CancellationToken.None);
        Assert.True(same.Identical);
        Assert.Equal((250L, 250L, 7, 0), (same.ProductionRows, same.LocalRows, same.Ranges, same.DifferingRanges));

        // The 40th row in key order ("C" collation: 'O''Brien' < 'Zed' < 'alpha') ends the first range.
        var boundary = await ours.QueryScalar<string>("""SELECT x.n::text FROM "Lines" x ORDER BY x.region COLLATE "C", x.n OFFSET 39 LIMIT 1""");
        await using (var change = new NpgsqlCommand($"""
            UPDATE "Lines" SET amount = amount + 1 WHERE region = 'Zed' AND n = 100;
            DELETE FROM "Lines" WHERE region = 'O''Brien' AND n = {boundary};
            INSERT INTO "Lines" VALUES ('O''Brien', 1000, 'local only', 1, now(), NULL);
            UPDATE "Lines" SET tags = ARRAY['a', 'b2'] WHERE region = 'alpha' AND n = 2;
            """, ours))
            await change.ExecuteNonQueryAsync();

        var found = await comparer.CompareAsync(theirs, ours, null, CancellationToken.None);
        Assert.Equal(
            ["Different region=Zed, n=100", "ExtraLocally region=O'Brien, n=1000", $"MissingLocally region=O'Brien, n={boundary}"],
            found.Differences.Select(d => $"{d.Kind} {d.Described}").Order(StringComparer.Ordinal));
        Assert.Equal((250L, 250L), (found.ProductionRows, found.LocalRows));
        Assert.Equal("120", boundary);
        // The deleted boundary row falls in the first range; the extra row and the changed one both in the third.
        Assert.Equal(2, found.DifferingRanges);

        await using (var transaction = await ours.BeginTransactionAsync())
        {
            var counts = await TableRepair.RepairAsync(theirs, ours, table, found.Differences, CancellationToken.None);
            Assert.Equal(new ApplyCounts(1, 1, 1), counts);
            await transaction.CommitAsync();
        }

        var repaired = await comparer.CompareAsync(theirs, ours, null, CancellationToken.None);
        Assert.True(repaired.Identical, string.Join(", ", repaired.Differences.Select(d => d.Described)));
        Assert.Equal(250L, repaired.LocalRows);
    }

    /// <summary>
    /// isn's types have no binary form, so the bootstrap carries them as text; the repair copies rows the same way (a binary
    /// COPY of such a table is refused by the server).
    /// </summary>
    [Fact]
    public async Task The_repair_copies_rows_whose_columns_have_no_binary_form()
    {
        const string ddl = """
            CREATE EXTENSION isn;
            SET isn.weak TO true;
            CREATE TABLE books (id int PRIMARY KEY, code ean13, shelf isbn13[], title text);
            INSERT INTO books SELECT g, make_valid(('978000000' || lpad(g::text, 3, '0') || '0')::isbn13)::ean13, NULL, 'book ' || g
            FROM generate_series(1, 120) g;
            UPDATE books SET shelf = ARRAY[code::isbn13];
            """;
        await using var cluster = await LocalCluster.StartAsync("range-isn");
        var (theirs, ours) = await TwoSidesAsync(cluster, ddl);
        await using var theirsOpen = theirs;
        await using var oursOpen = ours;
        await using (var change = new NpgsqlCommand("""
            UPDATE books SET code = NULL, shelf = NULL WHERE id = 7;
            DELETE FROM books WHERE id = 60;
            INSERT INTO books VALUES (500, NULL, NULL, 'local only');
            """, ours))
            await change.ExecuteNonQueryAsync();

        var table = await ComparedTable.ReadAsync(ours, new TableName("public", "books"), CancellationToken.None);
        var comparer = new RangeComparer(table, rangeRows: 50);
        var found = await comparer.CompareAsync(theirs, ours, null, CancellationToken.None);
        Assert.Equal(["Different id=7", "ExtraLocally id=500", "MissingLocally id=60"], found.Differences.Select(d => $"{d.Kind} {d.Described}").Order(StringComparer.Ordinal));

        await using (var transaction = await ours.BeginTransactionAsync())
        {
            Assert.Equal(new ApplyCounts(1, 1, 1), await TableRepair.RepairAsync(theirs, ours, table, found.Differences, CancellationToken.None));
            await transaction.CommitAsync();
        }

        const string checksum = "SELECT md5(string_agg(b::text, '|' ORDER BY id)) FROM books b";
        Assert.Equal(await theirs.QueryScalar<string>(checksum), await ours.QueryScalar<string>(checksum));
        Assert.True((await comparer.CompareAsync(theirs, ours, null, CancellationToken.None)).Identical);
    }

    /// <summary>
    /// A synced ordinary table is its own rows on each side, as the WAL stream carries them: production's inheritance child and
    /// the user's local one hold rows with the same keys, and the copy, the comparison and the repair leave both alone.
    /// </summary>
    [Fact]
    public async Task The_copy_the_comparison_and_the_repair_take_the_tables_own_rows_not_its_inheritance_childrens()
    {
        const string ddl = """
            CREATE TABLE items (id int PRIMARY KEY, v text);
            INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g;
            """;
        await using var cluster = await LocalCluster.StartAsync("range-inherit");
        var (theirs, ours) = await TwoSidesAsync(cluster, ddl);
        await using var theirsOpen = theirs;
        await using var oursOpen = ours;
        const string children = "CREATE TABLE items_{0} () INHERITS (items); INSERT INTO items_{0} SELECT g, '{0} ' || g FROM generate_series(1, 30) g;";
        await using (var child = new NpgsqlCommand(string.Format(System.Globalization.CultureInfo.InvariantCulture, children, "old") + "UPDATE ONLY items SET v = v || ' upstream'", theirs))
            await child.ExecuteNonQueryAsync();
        await using (var child = new NpgsqlCommand(string.Format(System.Globalization.CultureInfo.InvariantCulture, children, "mine"), ours))
            await child.ExecuteNonQueryAsync();
        const string mine = "SELECT md5(string_agg(id || v, ',' ORDER BY id)) FROM items_mine";
        var mineBefore = await ours.QueryScalar<string>(mine);

        var items = new TableName("public", "items");
        await using (var transaction = await ours.BeginTransactionAsync())
        {
            Assert.True(await TableChangeApplier.TruncateAsync(ours, [items], CancellationToken.None));
            Assert.Equal(100, await TableCopier.CopyAsync(theirs, ours, items, ["id", "v"], freeze: false, CancellationToken.None));
            await transaction.CommitAsync();
        }

        var table = await ComparedTable.ReadAsync(ours, items, CancellationToken.None);
        var comparer = new RangeComparer(table, rangeRows: 40);
        var same = await comparer.CompareAsync(theirs, ours, null, CancellationToken.None);
        Assert.True(same.Identical, string.Join(", ", same.Differences.Select(d => d.Described)));
        Assert.Equal((100L, 100L), (same.ProductionRows, same.LocalRows));

        await using (var change = new NpgsqlCommand("DELETE FROM ONLY items WHERE id = 5; UPDATE ONLY items SET v = 'changed' WHERE id = 6; INSERT INTO items VALUES (500, 'local only')", ours))
            await change.ExecuteNonQueryAsync();
        var found = await comparer.CompareAsync(theirs, ours, null, CancellationToken.None);
        Assert.Equal(["Different id=6", "ExtraLocally id=500", "MissingLocally id=5"], found.Differences.Select(d => $"{d.Kind} {d.Described}").Order(StringComparer.Ordinal));
        await using (var transaction = await ours.BeginTransactionAsync())
        {
            Assert.Equal(new ApplyCounts(1, 1, 1), await TableRepair.RepairAsync(theirs, ours, table, found.Differences, CancellationToken.None));
            await transaction.CommitAsync();
        }

        Assert.True((await comparer.CompareAsync(theirs, ours, null, CancellationToken.None)).Identical);
        Assert.Equal(mineBefore, await ours.QueryScalar<string>(mine));
        Assert.Equal(30L, await ours.QueryScalar<long>("SELECT count(*) FROM items_mine"));
    }

    /// <summary>Production's side (database "theirs") and the local side of one cluster, both made by <paramref name="ddl"/>, with the comparison's session settings.</summary>
    private static async Task<(NpgsqlConnection Theirs, NpgsqlConnection Ours)> TwoSidesAsync(LocalCluster cluster, string ddl)
    {
        await cluster.Server.ExecuteAsync("CREATE DATABASE theirs", "postgres");
        await cluster.Server.ExecuteAsync(ddl, "theirs");
        await cluster.ExecuteAsync(ddl);
        var theirs = new NpgsqlConnection(cluster.Server.ConnectionString("theirs"));
        var ours = new NpgsqlConnection(cluster.ConnectionString);
        await theirs.OpenAsync();
        await ours.OpenAsync();
        foreach (var side in new[] { theirs, ours })
        {
            await using var settings = new NpgsqlCommand(ComparedTable.SessionSettings, side);
            await settings.ExecuteNonQueryAsync();
        }

        return (theirs, ours);
    }
}

internal static class ConnectionQueries
{
    public static async Task<T> QueryScalar<T>(this NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
