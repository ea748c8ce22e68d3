using DataSync.Core.Tables;

namespace DataSync.Core.Tests.Tables;

public sealed class TableNameParserTests
{
    [Theory]
    [InlineData(new[] { "public.a, b" }, "public.a|public.b")]
    [InlineData(new[] { "a,b", "c" }, "public.a|public.b|public.c")]
    [InlineData(new[] { "  sales.Orders ,,\tInventory.items  " }, "sales.orders|inventory.items")]
    [InlineData(new[] { "a", "a", "public.a" }, "public.a")]
    [InlineData(new[] { "\"My Schema\".\"Odd, \"\"Name\"\".x\"" }, "\"My Schema\".\"Odd, \"\"Name\"\".x\"")]
    [InlineData(new[] { "t$1", "_x" }, "public.t$1|public._x")]
    [InlineData(new[] { "\"ÄÖ\"", "ÄB" }, "public.\"ÄÖ\"|public.\"Äb\"")]
    public void Reads_lists_as_sql_would(string[] arguments, string expected)
    {
        var names = TableNameParser.ParseList(arguments);
        Assert.Equal(expected, string.Join('|', names));
    }

    [Fact]
    public void Hostile_names_stay_single_identifiers()
    {
        var name = TableNameParser.Parse("\"x\"\"; DROP TABLE users; --\"");
        Assert.Equal(("public", "x\"; DROP TABLE users; --"), (name.Schema, name.Name));
        Assert.Equal("\"public\".\"x\"\"; DROP TABLE users; --\"", name.Quoted);
        Assert.Equal(name, TableNameParser.Parse(name.ToString()));
    }

    [Theory]
    [InlineData("a;b", "unexpected ';'")]
    [InlineData("x; DROP TABLE y", "unexpected ';'")]
    [InlineData("1abc", "not a valid table name")]
    [InlineData("a.", "ends with '.'")]
    [InlineData("a.b.c", "unexpected '.'")]
    [InlineData("\"open", "unterminated")]
    [InlineData("\"\"", "empty quoted identifier")]
    [InlineData(" , ", "no table names")]
    [InlineData("a'b", "unexpected '''")]
    public void Refuses_what_is_not_a_name(string input, string reason)
    {
        var error = Assert.Throws<TableNameException>(() => TableNameParser.ParseList([input]));
        Assert.Contains(reason, error.Message);
    }

    [Fact]
    public void Refuses_names_the_server_would_truncate()
    {
        Assert.Equal(63, TableNameParser.Parse(new string('a', 63)).Name.Length);
        var error = Assert.Throws<TableNameException>(() => TableNameParser.Parse(new string('a', 64)));
        Assert.Contains("63-byte limit", error.Message);
    }
}
