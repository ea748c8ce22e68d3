using DataSync.Core.Bootstrap;
using DataSync.Core.Embedded;
using DataSync.Embedded;
using DataSync.TestRig;
using DataSync.Wal;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>
/// A temporary restore is a full copy of production with a superuser: only the daemon's own OS user may
/// reach it. Another local user is stopped at the socket's folder (mode 0700); the server account itself,
/// which can reach the socket, is refused by peer authentication; the daemon gets in.
/// </summary>
public sealed class RestoreAccessTests
{
    private const string OtherUser = "datasync-other";

    [Fact]
    public async Task Only_the_daemons_OS_user_can_connect_to_a_temporary_restore()
    {
        Assert.True(Environment.IsPrivilegedProcess, "the test switches to other OS users, which needs root (as the suite runs)");
        var (binaries, account) = await TestPostgres.GetAsync();
        await ServerAccount.For(OtherUser).EnsureExistsAsync();
        await using var production = await ProductionCluster.StartAsync("restore-access");
        await production.ExecuteAsync("CREATE TABLE secrets (id int PRIMARY KEY, token text); INSERT INTO secrets VALUES (1, 'production only')");
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        // A short STATE_DIR keeps the socket in the restore's own folder (a long one gets a private temporary folder).
        var state = TestPostgres.NewClusterRoot("acc");
        try
        {
            File.SetUnixFileMode(state, (UnixFileMode)0b111_101_101);
            await using var restore = await TemporaryRestore.StartAsync(new TemporaryRestoreOptions
            {
                Binaries = binaries, Account = account, StateDirectory = state, Backup = Assert.Single(BaseBackup.FindAll(production.BackupDirectory)),
                WalDirectory = production.ArchiveDirectory, TargetLsn = backup.StopLsn,
            });
            var ownerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Assert.Equal(ownerOnly, File.GetUnixFileMode(restore.SocketDirectory));
            Assert.Equal(ownerOnly, File.GetUnixFileMode(Path.Combine(restore.SocketDirectory, $".s.PGSQL.{restore.Port}")));
            Assert.Equal(ownerOnly, File.GetUnixFileMode(restore.Root));

            var other = await PsqlAsAsync(OtherUser, restore);
            Assert.True(other.ExitCode != 0, $"{OtherUser} read production's data: {other.StandardOutput}");
            Assert.Contains("Permission denied", other.StandardError);

            var serverAccount = await PsqlAsAsync(account.UserName!, restore);
            Assert.True(serverAccount.ExitCode != 0, $"{account.UserName} read production's data: {serverAccount.StandardOutput}");
            Assert.Contains("authentication failed", serverAccount.StandardError);

            // The daemon's own user (root here) gets in: the refusals above are about who asks, not a broken restore.
            var daemon = await ProcessRunner.RunAsync("/usr/bin/psql", PsqlArguments(restore));
            Assert.True(daemon.ExitCode == 0, daemon.StandardError);
            Assert.Equal("production only", daemon.StandardOutput.Trim());
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    private static Task<ProcessResult> PsqlAsAsync(string user, TemporaryRestore restore) =>
        ProcessRunner.RunAsync("runuser", ["-u", user, "--", "/usr/bin/psql", .. PsqlArguments(restore)]);

    private static string[] PsqlArguments(TemporaryRestore restore) =>
        ["-h", restore.SocketDirectory, "-p", restore.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", restore.Identity.Superusers[0],
            "-d", ProductionCluster.Database, "-w", "-Atc", "SELECT token FROM secrets"];
}
