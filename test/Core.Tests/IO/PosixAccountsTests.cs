using DataSync.Core.Embedded;
using DataSync.Core.IO;
using DataSync.TestRig;

namespace DataSync.Core.Tests.IO;

/// <summary>The C library calls say what `id`, `stat` and `chgrp` say: the structures are read at the right offsets.</summary>
public sealed class PosixAccountsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("datasync-accounts-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Ids_agree_with_id_and_stat()
    {
        Assert.Equal(await RunAsync("id", "-u"), PosixAccounts.EffectiveUserId().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(await RunAsync("stat", "-L", "-c", "%u", _root), PosixAccounts.OwnerOf(_root)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // Every account this machine has, those whose uid and gid differ among them (a misread offset shows there).
        var accounts = (await RunAsync("getent", "passwd")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(':')).ToList();
        Assert.Contains(accounts, fields => fields[2] != fields[3]);
        foreach (var fields in accounts)
            Assert.Equal(fields[3], PosixAccounts.PrimaryGroupOf(fields[0]).ToString(System.Globalization.CultureInfo.InvariantCulture));
        var missing = Assert.Throws<InvalidOperationException>(() => PosixAccounts.PrimaryGroupOf("datasync-no-such-user"));
        Assert.Contains("PG_OS_USER 'datasync-no-such-user': cannot find its group", missing.Message);
        Assert.Throws<IOException>(() => PosixAccounts.OwnerOf(Path.Combine(_root, "absent")));
    }

    [Fact]
    public async Task A_group_change_reaches_a_link_and_not_what_it_points_to()
    {
        var (_, account) = await TestPostgres.GetAsync();
        if (!account.SwitchesUser) return; // needs root and a server account, whose group differs from root's
        var target = Path.Combine(_root, "target");
        File.WriteAllText(target, "x");
        var link = Path.Combine(_root, "link");
        File.CreateSymbolicLink(link, target);
        var group = PosixAccounts.PrimaryGroupOf(account.UserName!);
        var before = await RunAsync("stat", "-c", "%g", target);

        PosixAccounts.ChangeGroup(link, group);

        Assert.Equal(group.ToString(System.Globalization.CultureInfo.InvariantCulture), await RunAsync("stat", "-c", "%g", link));
        Assert.Equal(before, await RunAsync("stat", "-c", "%g", target));
        Assert.NotEqual(before, group.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static async Task<string> RunAsync(string file, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(file, arguments);
        Assert.Equal(0, result.ExitCode);
        return result.StandardOutput.Trim();
    }
}
