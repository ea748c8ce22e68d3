using DataSync.Core.Archive.Sftp;

namespace DataSync.Core.Tests.Archive.Sftp;

public sealed class SftpLocationTests
{
    [Theory]
    [InlineData("sftp://backup@archive.example/srv/wal", "backup", "archive.example", 22, "/srv/wal")]
    [InlineData("sftp://backup@Archive.Example:2222/srv/wal/", "backup", "archive.example", 2222, "/srv/wal")]
    [InlineData("SFTP://wal-reader@10.1.2.3:22/base%20backups", "wal-reader", "10.1.2.3", 22, "/base backups")]
    [InlineData("sftp://me@[::1]:2200/wal", "me", "::1", 2200, "/wal")]
    [InlineData("sftp://first.last%40corp@host/wal", "first.last@corp", "host", 22, "/wal")]
    public void Parses_user_host_port_and_path(string url, string user, string host, int port, string path) =>
        Assert.Equal(new SftpLocation(user, host, port, path), SftpLocation.Parse(url));

    [Theory]
    [InlineData("sftp://backup@archive.example:2222/srv/wal", "[archive.example]:2222", "archive.example:2222")]
    [InlineData("sftp://backup@archive.example/srv/wal", "archive.example", "archive.example:22")]
    [InlineData("sftp://backup@[::1]:2200/wal", "[::1]:2200", "[::1]:2200")]
    public void Names_the_server_as_known_hosts_and_messages_do(string url, string knownHostsName, string authority)
    {
        var location = SftpLocation.Parse(url);
        Assert.Equal(knownHostsName, location.KnownHostsName);
        Assert.Equal(authority, location.Authority);
        Assert.Equal(url, location.ToString());
        Assert.Equal(location.Path + "/000000010000000000000001", location.Below("000000010000000000000001"));
    }

    [Theory]
    [InlineData("sftp://host-without-user/wal", "no user")]
    [InlineData("sftp://user@host", "no folder")]
    [InlineData("sftp://user@host/", "no folder")]
    [InlineData("sftp://user@host/wal?x=1", "no folder")]
    [InlineData("sftp://user@host:0/wal", "port 0")]
    [InlineData("sftp://user@host:99999/wal", "must look like")]
    [InlineData("/srv/wal", "not an sftp URL")]
    public void Refuses_what_is_not_a_usable_location(string url, string expected)
    {
        Assert.False(SftpLocation.TryParse(url, out _, out var error));
        Assert.Contains(expected, error);
        Assert.Throws<FormatException>(() => SftpLocation.Parse(url));
    }

    [Fact]
    public void A_password_is_refused_and_never_repeated()
    {
        Assert.False(SftpLocation.TryParse("sftp://backup:hunter2@archive.example/wal", out _, out var error));
        Assert.Contains("SSH_KEY_FILE", error);
        Assert.DoesNotContain("hunter2", error);
    }
}
