using DataSync.Core.IO;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>Names from a tar, a manifest or an sftp listing: only what stays below the destination is let through.</summary>
public sealed class ContainedPathTests
{
    [Theory]
    [InlineData("/etc/cron.d/x")]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("base/../../x")]
    [InlineData("a/\0/b")]
    [InlineData("")]
    public void Names_that_leave_the_destination_are_refused_naming_the_source(string name)
    {
        var error = Assert.Throws<InvalidDataException>(() => ContainedPath.Resolve("/srv/restore", name, "backup.tar"));
        Assert.StartsWith("backup.tar: entry '", error.Message);
        Assert.Contains("refused", error.Message);
    }

    [Theory]
    [InlineData("base/5/1259", "/srv/restore/base/5/1259")]
    [InlineData("./global/pg_control", "/srv/restore/global/pg_control")]
    [InlineData("a..b", "/srv/restore/a..b")]
    public void Names_below_the_destination_resolve_there(string name, string expected) =>
        Assert.Equal(expected, ContainedPath.Resolve("/srv/restore", name, "backup.tar"));

    [Theory]
    [InlineData("000000010000000000000005", true)]
    [InlineData("a/b", false)]
    [InlineData("/abs", false)]
    [InlineData("..", false)]
    [InlineData(".", false)]
    [InlineData("", false)]
    [InlineData("x\0y", false)]
    public void Only_one_plain_name_is_taken_from_an_sftp_listing(string name, bool plain) =>
        Assert.Equal(plain, ContainedPath.IsPlainName(name));

    [Fact]
    public void Control_characters_in_a_refused_name_are_escaped_so_they_cannot_forge_log_lines()
    {
        var error = Assert.Throws<InvalidDataException>(() => ContainedPath.Resolve("/srv/restore", "../x\n[INF] all good", "backup.tar"));
        Assert.DoesNotContain("\n", error.Message);
        Assert.Contains("\\x0a", error.Message);
    }
}
