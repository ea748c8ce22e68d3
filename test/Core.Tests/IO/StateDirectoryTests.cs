using DataSync.Core.Embedded;
using DataSync.Core.IO;
using DataSync.TestRig;

namespace DataSync.Core.Tests.IO;

/// <summary>STATE_DIR as the daemon finds it at start: created private, repaired with a message, refused when another user owns it.</summary>
public sealed class StateDirectoryTests : IDisposable
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _root = Directory.CreateTempSubdirectory("datasync-state-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_new_state_dir_is_created_private()
    {
        var state = Path.Combine(_root, "a", "state");

        Assert.Empty(await StateDirectory.SecureAsync(state, ServerAccount.Current));

        Assert.Equal(Folder, File.GetUnixFileMode(state));
    }

    [Fact]
    public async Task A_state_dir_others_can_read_is_repaired_and_said_so()
    {
        var state = Path.Combine(_root, "state");
        Directory.CreateDirectory(Path.Combine(state, "spool"));
        File.WriteAllText(Path.Combine(state, "spool", "000000010000000000000001"), "wal");
        File.WriteAllText(Path.Combine(state, "control.token"), "t");
        File.SetUnixFileMode(state, (UnixFileMode)0b111_111_111);
        File.SetUnixFileMode(Path.Combine(state, "spool"), (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(state, "spool", "000000010000000000000001"), (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(Path.Combine(state, "control.token"), File600);
        Directory.CreateDirectory(Path.Combine(state, "restores"));
        File.SetUnixFileMode(Path.Combine(state, "restores"), (UnixFileMode)0b111_101_101);

        var warnings = await StateDirectory.SecureAsync(state, ServerAccount.Current);

        Assert.Equal(Folder, File.GetUnixFileMode(state));
        Assert.Equal(Folder, File.GetUnixFileMode(Path.Combine(state, "spool")));
        Assert.Equal(File600, File.GetUnixFileMode(Path.Combine(state, "spool", "000000010000000000000001")));
        Assert.Equal(File600, File.GetUnixFileMode(Path.Combine(state, "control.token")));
        // The restores folder is the restore code's: left as it is.
        Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(state, "restores")));
        Assert.Contains(warnings, w => w.Contains($"STATE_DIR {state} had mode 0777, which let other users in; set it to 0700"));
        Assert.Contains(warnings, w => w.StartsWith("2 file(s) or folder(s) under STATE_DIR", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_state_dir_of_another_user_is_refused()
    {
        var (_, account) = await TestPostgres.GetAsync();
        if (!account.SwitchesUser) return; // needs root, to give the folder to another user
        var state = Path.Combine(_root, "theirs");
        Directory.CreateDirectory(state);
        await account.TakeOwnershipAsync(state);

        var error = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => StateDirectory.SecureAsync(state, ServerAccount.Current));

        Assert.Contains($"STATE_DIR {state} belongs to uid", error.Message);
        Assert.Contains("not to the user the daemon runs as", error.Message);
    }

    [Fact]
    public async Task Under_root_with_pg_os_user_that_account_s_group_may_read_and_others_get_nothing()
    {
        var (_, account) = await TestPostgres.GetAsync();
        if (!account.SwitchesUser) return; // needs root and a server account
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
        var state = Path.Combine(_root, "shared");
        Directory.CreateDirectory(Path.Combine(state, "spool"));
        File.WriteAllText(Path.Combine(state, "spool", "segment"), "wal");
        File.SetUnixFileMode(Path.Combine(state, "spool", "segment"), (UnixFileMode)0b110_110_110);

        await StateDirectory.SecureAsync(state, account);

        var folder = Folder | UnixFileMode.SetGroup | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        Assert.Equal(folder, File.GetUnixFileMode(state));
        Assert.Equal(folder, File.GetUnixFileMode(Path.Combine(state, "spool")));
        Assert.Equal(File600 | UnixFileMode.GroupRead, File.GetUnixFileMode(Path.Combine(state, "spool", "segment")));
        // The server account reads a spooled segment, as the restore's restore_command does.
        var read = await account.RunAsync("cat", [Path.Combine(state, "spool", "segment")]);
        Assert.Equal("wal", read.StandardOutput.Trim());
    }
}
