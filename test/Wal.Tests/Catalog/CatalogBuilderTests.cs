using DataSync.Wal.Catalog;

namespace DataSync.Wal.Tests.Catalog;

public sealed class CatalogBuilderTests
{
    private static ColumnRow Row(short attNum, byte[]? missing = null) =>
        new(100, attNum, "c" + attNum, 23, -1, 4, 'i', true, 'p', false, false, missing is not null, missing, '\0');

    private static readonly TableRow Table = new(100, "public", "t", 200, 1663, 5, 0, 0, 'd', [1]);

    [Fact]
    public void Missing_value_is_the_element_of_the_one_element_array()
    {
        // array_send('{42}'::int4[]): ndim 1, no nulls, int4, dim 1, lbound 1, length 4, 42.
        var array = Convert.FromHexString("00000001" + "00000000" + "00000017" + "00000001" + "00000001" + "00000004" + "0000002A");
        var snapshot = CatalogBuilder.Build(new Lsn(7), [Table], [Row(1), Row(2, array)], [], []);
        Assert.Equal(new byte[] { 0, 0, 0, 42 }, snapshot.Tables[0].Columns[1].MissingValue);
        Assert.Equal(new Lsn(7), CatalogJson.Deserialize(CatalogJson.Serialize(snapshot)).CapturedAt);

        var nullElement = Convert.FromHexString("00000001" + "00000001" + "00000017" + "00000001" + "00000001" + "FFFFFFFF");
        Assert.Null(CatalogBuilder.ElementOfSingleElementArray(nullElement, "x"));
    }

    [Fact]
    public void Gaps_in_attribute_numbers_and_tables_without_columns_are_refused()
    {
        Assert.Contains("public.t", Assert.Throws<CatalogException>(() => CatalogBuilder.Build(Lsn.Invalid, [Table], [Row(1), Row(3)], [], [])).Message, StringComparison.Ordinal);
        Assert.Throws<CatalogException>(() => CatalogBuilder.Build(Lsn.Invalid, [Table], [], [], []));
        Assert.Throws<CatalogException>(() => CatalogBuilder.Build(Lsn.Invalid, [Table], [Row(1, [0, 0, 0, 2, 0, 0])], [], []));
    }
}
