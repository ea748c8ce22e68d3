using System.Diagnostics;
using DataSync.Actors.Daemon;
using DataSync.Actors.Hosting;
using DataSync.Core.Embedded;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>
/// A start that fails says in one line what failed, which setting or file, and what to do, with no .NET stack
/// trace on the console (the trace is in the daemon's log file); and it leaves nothing that slows the next command.
/// </summary>
public sealed class StartFailureMessageTests
{
    private static void AssertNoStackTrace(CliRunner.Result result)
    {
        var all = result.Out + result.Error;
        Assert.DoesNotContain("   at ", all);
        Assert.DoesNotContain("Exception:", all);
        Assert.DoesNotContain("--- End of", all);
        Assert.True(all.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 3, "more than the useful lines:\n" + all);
    }

    [Fact]
    public async Task A_wrong_password_names_PG_PASSWORD_in_the_foreground_and_detached()
    {
        await using var local = await LocalCluster.StartAsync("start-wrong-password");
        var config = await TestConfig.WriteAsync(local);
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace($"PG_PASSWORD = \"{local.Password}\"", "PG_PASSWORD = \"not-the-password\""));

        foreach (var args in new[] { new[] { "start", "--foreground" }, ["start"] })
        {
            var start = await CliRunner.RunAsync(config, args);
            Assert.Equal(1, start.ExitCode);
            Assert.Contains($"refused the password of PG_USER_NAME \"{EmbeddedLocalUser}\": check PG_PASSWORD in the configuration", start.Error);
            AssertNoStackTrace(start);
        }

        // The detached start's console log keeps the line, and the trace went to the file log only.
        var state = Path.Combine(local.Root, "state");
        Assert.DoesNotContain("   at ", await File.ReadAllTextAsync(DaemonConsoleLog.PathIn(state)));
        Assert.Contains("   at ", await File.ReadAllTextAsync(DaemonLog.FilePath(state)));
    }

    private static string EmbeddedLocalUser => DataSync.Embedded.EmbeddedLocal.User;

    [Fact]
    public async Task An_unreachable_local_port_names_PG_HOST_and_PG_PORT()
    {
        await using var local = await LocalCluster.StartAsync("start-no-server");
        var config = await TestConfig.WriteAsync(local);
        var unused = DataSync.Core.Embedded.PostgresServer.FindFreePort();
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config)).Replace($"PG_PORT = {local.Port}", $"PG_PORT = {unused}"));

        var start = await CliRunner.RunAsync(config, "start", "--foreground");

        Assert.Equal(1, start.ExitCode);
        Assert.Contains($"127.0.0.1:{unused}", start.Error);
        Assert.Contains("Check PG_HOST and PG_PORT in " + config, start.Error);
        AssertNoStackTrace(start);
    }

    [Fact]
    public async Task An_unreadable_configuration_names_the_file()
    {
        var folder = Directory.CreateTempSubdirectory("datasync-start-config-").FullName;
        try
        {
            var config = Path.Combine(folder, "missing.toml");

            var start = await CliRunner.RunAsync(config, "start");

            Assert.Equal(2, start.ExitCode);
            Assert.Contains(config, start.Error);
            AssertNoStackTrace(start);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_configuration_only_root_may_read_names_the_file_the_user_and_the_fix()
    {
        var (_, account) = await TestPostgres.GetAsync();
        Assert.True(account.UserName is not null, "run the tests as root: this one runs datasync as another user");
        var folder = TestPostgres.NewClusterRoot("root-only-config");
        try
        {
            // As the readme once said: a root-only /etc/datasync, and the daemon started as its own user.
            var etc = Path.Combine(folder, "etc", "datasync");
            Directory.CreateDirectory(etc, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var config = Path.Combine(etc, "datasync.toml");
            await File.WriteAllTextAsync(config, "PG_PASSWORD = \"x\"\nPG_DB_NAME = \"d\"\n");
            File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var program = Path.Combine(AppContext.BaseDirectory, "datasync");

            var start = await ProcessRunner.RunAsync("runuser", ["-u", account.UserName!, "--", "env", $"DATA_SYNC_CONFIG={config}", program, "start", "--foreground"]);

            Assert.Equal(2, start.ExitCode);
            Assert.Contains($"cannot read configuration file '{config}'", start.StandardError);
            Assert.Contains($"datasync runs as OS user '{account.UserName}', who must be able to read it", start.StandardError);
            Assert.Contains("chmod 600", start.StandardError);
            AssertNoStackTrace(new CliRunner.Result(start.ExitCode, start.StandardOutput, start.StandardError));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_start_that_fails_after_publishing_its_token_leaves_none_and_later_commands_answer_at_once()
    {
        await using var local = await LocalCluster.StartAsync("start-late-failure");
        // PG_BIN_DIR is checked after the lock, the registration and the control token.
        var config = await TestConfig.WriteAsync(local, extraLines: $"PG_BIN_DIR = \"{local.Root}/no-such-bin\"");
        var state = Path.Combine(local.Root, "state");

        var start = await CliRunner.RunAsync(config, "start");

        Assert.Equal(1, start.ExitCode);
        Assert.Contains("no-such-bin", start.Error);
        AssertNoStackTrace(start);
        Assert.False(File.Exists(ControlToken.PathIn(state)), "the failed start left its control token");

        foreach (var args in new[] { new[] { "status" }, ["stop"], ["add-tables", "nosuch"] })
        {
            var clock = Stopwatch.StartNew();
            var run = await CliRunner.RunAsync(config, args);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"datasync {string.Join(' ', args)} took {clock.Elapsed.TotalSeconds:F1} s: {run.Out}{run.Error}");
            Assert.DoesNotContain("is not this datasync daemon", run.Error);
        }
    }

    [Fact]
    public async Task A_stale_token_with_another_program_on_the_control_port_costs_no_wait_when_the_daemon_lock_is_free()
    {
        await using var local = await LocalCluster.StartAsync("stale-token-busy-port");
        var config = await TestConfig.WriteAsync(local);
        var state = Path.Combine(local.Root, "state");
        Directory.CreateDirectory(state);
        File.WriteAllText(ControlToken.PathIn(state), new string('A', 64));
        var port = int.Parse(System.Text.RegularExpressions.Regex.Match(await File.ReadAllTextAsync(config), @"CONTROL_PORT = (\d+)").Groups[1].Value);
        // Something that accepts connections and never answers, as a daemon still shutting down would.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
        listener.Start();

        var clock = Stopwatch.StartNew();
        var status = await CliRunner.RunAsync(config, "status");
        clock.Stop();

        Assert.Equal(0, status.ExitCode);
        Assert.StartsWith("status: not-started\n", status.Out);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"status took {clock.Elapsed.TotalSeconds:F1} s");
    }
}
