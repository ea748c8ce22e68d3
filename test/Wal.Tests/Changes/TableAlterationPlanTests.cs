using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;

namespace DataSync.Wal.Tests.Changes;

/// <summary>Which column changes are followed and in what order the local table takes them; the rest named as the reason to stop.</summary>
public sealed class TableAlterationPlanTests
{
    private static readonly TypeRegistry NoTypes = new([], []);

    private static ColumnDescriptor Column(short attNum, string name, uint type, int typmod = -1, short length = 4, char align = 'i', bool dropped = false,
        char generated = '\0') =>
        new(attNum, name, type, typmod, length, align, length > 0, length > 0 ? 'p' : 'x', dropped, false, false, null, generated);

    private static TableDescriptor Table(params ColumnDescriptor[] columns) =>
        new("public", "t", 16400, 16400, 1663, 5, 0, 0, 'd', [1], columns);

    [Theory]
    [InlineData(21u, -1, 23u, -1, true)] // smallint to int
    [InlineData(21u, -1, 20u, -1, true)] // smallint to bigint
    [InlineData(23u, -1, 20u, -1, true)] // int to bigint
    [InlineData(20u, -1, 23u, -1, false)] // bigint to int
    [InlineData(1043u, 14, 1043u, 44, true)] // varchar(10) to varchar(40)
    [InlineData(1043u, 44, 1043u, 14, false)] // varchar(40) to varchar(10)
    [InlineData(1043u, 14, 1043u, -1, true)] // varchar(10) to varchar
    [InlineData(1043u, -1, 1043u, 14, false)] // varchar to varchar(10)
    [InlineData(1043u, 14, 25u, -1, true)] // varchar(10) to text
    [InlineData(25u, -1, 23u, -1, false)] // text to int
    [InlineData(1700u, (8 << 16 | 2) + 4, 1700u, (12 << 16 | 2) + 4, true)] // numeric(8,2) to numeric(12,2)
    [InlineData(1700u, (8 << 16 | 2) + 4, 1700u, (9 << 16 | 3) + 4, true)] // numeric(8,2) to numeric(9,3)
    [InlineData(1700u, (8 << 16 | 2) + 4, 1700u, (8 << 16 | 3) + 4, false)] // numeric(8,2) to numeric(8,3): fewer digits before the point
    [InlineData(1700u, (8 << 16 | 2) + 4, 1700u, -1, true)] // numeric(8,2) to numeric
    [InlineData(1700u, -1, 1700u, (20 << 16 | 2) + 4, false)] // numeric to numeric(20,2)
    public void Widening_types(uint from, int fromModifier, uint to, int toModifier, bool widens) =>
        Assert.Equal(widens, TableAlterationPlan.IsWidening(Column(2, "c", from, fromModifier), Column(2, "c", to, toModifier)));

    [Fact]
    public void Drops_renames_retypes_and_additions_come_in_that_order()
    {
        var before = Table(Column(1, "id", 23), Column(2, "a", 25, length: -1), Column(3, "b", 23), Column(4, "c", 21, length: 2, align: 's'));
        // a renamed b, b dropped, c widened, a column added and dropped again (nothing to do), d added.
        var after = Table(Column(1, "id", 23), Column(2, "b", 25, length: -1), Column(3, "........pg.dropped.3........", 0, dropped: true), Column(4, "c", 23),
            Column(5, "........pg.dropped.5........", 0, dropped: true), Column(6, "d", 1700, length: -1));
        var plan = TableAlterationPlan.Between(before, after, false, new HashSet<short>(), NoTypes);
        Assert.Null(plan.Reason);
        Assert.Equal(["column \"b\" dropped", "column \"a\" renamed to \"b\"", "column \"c\" changed type from int2 to int4", "column \"d\" added (numeric)"],
            plan.Alterations.Select(a => a.ToString()));
    }

    [Fact]
    public void A_key_column_dropped_a_generated_column_added_and_a_value_per_row_not_carried_are_not_followed()
    {
        var before = Table(Column(1, "id", 23), Column(2, "n", 23));
        var keyDropped = Table(Column(1, "........pg.dropped.1........", 0, dropped: true), Column(2, "n", 23));
        Assert.Equal("key column \"id\" was dropped", TableAlterationPlan.Between(before, keyDropped, false, new HashSet<short>(), NoTypes).Reason);

        var generated = Table(Column(1, "id", 23), Column(2, "n", 23), Column(3, "g", 23, generated: 's'));
        Assert.StartsWith("column \"g\" was added as a generated column", TableAlterationPlan.Between(before, generated, true, new HashSet<short>(), NoTypes).Reason);

        var perRow = Table(Column(1, "id", 23), Column(2, "n", 23), Column(3, "r", 701, length: 8, align: 'd'));
        Assert.StartsWith("column \"r\" was added with a default evaluated for each row",
            TableAlterationPlan.Between(before, perRow, true, new HashSet<short> { 3 }, NoTypes).Reason);
        Assert.Null(TableAlterationPlan.Between(before, perRow, true, new HashSet<short> { 3 }, NoTypes, rowsCarried: true).Reason);
        // Without a rewrite the rows already there read NULL, as production's do.
        Assert.Null(TableAlterationPlan.Between(before, perRow, false, new HashSet<short> { 3 }, NoTypes).Reason);
    }
}
