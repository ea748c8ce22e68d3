namespace DataSync.Core.Tests.Cli;

/// <summary>The command line without a database: help, usage errors, configuration errors.</summary>
public sealed class CliSurfaceTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("datasync-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Help_lists_every_command_and_the_exit_codes()
    {
        var result = await CliRunner.RunAsync(null, "--help");
        Assert.Equal(0, result.ExitCode);
        foreach (var command in new[] { "start", "stop", "status", "clear", "resync", "add-tables", "remove-tables", "waldump", "verify" })
            Assert.Contains($"  {command} ", result.Out);
        Assert.Contains("Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.", result.Out);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("stop")]
    [InlineData("status")]
    [InlineData("clear")]
    [InlineData("resync")]
    [InlineData("add-tables")]
    [InlineData("remove-tables")]
    [InlineData("waldump")]
    [InlineData("verify")]
    public async Task Every_command_has_help(string command)
    {
        var result = await CliRunner.RunAsync(null, command, "--help");
        Assert.Equal(0, result.ExitCode);
        // The usage line names the command after the executable (datasync when published, the test host here).
        Assert.Contains($" {command} ", result.Out.Split("Usage:")[1].Split('\n')[1] + " ");
        Assert.Contains("Exit codes:", result.Out);
    }

    [Theory]
    [InlineData("frobnicate")]
    // The demo is its own program (datasync-demo): the CLI, and so the daemon, carries no embedded PostgreSQL.
    [InlineData("demo")]
    [InlineData("add-tables")]
    [InlineData("start", "--bogus")]
    public async Task Usage_errors_exit_2(params string[] args)
    {
        var result = await CliRunner.RunAsync(null, args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("datasync --help", result.Error);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("start")]
    [InlineData("add-tables", "a")]
    public async Task Unset_configuration_exits_2_naming_the_variable(params string[] args)
    {
        var result = await CliRunner.RunAsync(null, args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("DATA_SYNC_CONFIG is not set", result.Error);
    }

    [Theory]
    [InlineData("DATA_SYNC_FREQ = \"often\"", "DATA_SYNC_FREQ")]
    [InlineData("DATA_SYNC_FREQ = 0", "DATA_SYNC_FREQ")]
    [InlineData("PG_PORT = 70000", "PG_PORT")]
    [InlineData("CONTROL_PORT = 0", "CONTROL_PORT")]
    [InlineData("PG_PORT = = 1", "TOML syntax error")]
    public async Task Configuration_mistakes_exit_2_naming_the_key(string line, string named)
    {
        var path = Path.Combine(_folder, "bad.toml");
        await File.WriteAllTextAsync(path, "PG_PASSWORD = \"x\"\nPG_DB_NAME = \"d\"\nARCHIVE_DIR = \"/a\"\nBASE_BACKUP_DIR = \"/b\"\n" + line + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var result = await CliRunner.RunAsync(path, "status");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(named, result.Error);
        Assert.Contains(path, result.Error);
    }

    [Fact]
    public async Task Missing_required_key_exits_2_naming_it()
    {
        var path = Path.Combine(_folder, "partial.toml");
        await File.WriteAllTextAsync(path, "PG_PASSWORD = \"x\"\nARCHIVE_DIR = \"/a\"\nBASE_BACKUP_DIR = \"/b\"\n");
        var result = await CliRunner.RunAsync(path, "status");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("PG_DB_NAME is required", result.Error);
    }

    [Fact]
    public async Task Unreadable_configuration_exits_2_naming_the_path()
    {
        var path = Path.Combine(_folder, "missing.toml");
        var result = await CliRunner.RunAsync(path, "status");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(path, result.Error);
    }

    [Fact]
    public async Task Start_with_an_unreachable_database_fails_naming_it()
    {
        var path = Path.Combine(_folder, "ok.toml");
        var port = DataSync.Core.Embedded.PostgresServer.FindFreePort();
        await File.WriteAllTextAsync(path, $"PG_PASSWORD = \"x\"\nPG_DB_NAME = \"d\"\nPG_PORT = {port}\nARCHIVE_DIR = \"/a\"\nBASE_BACKUP_DIR = \"/b\"\nSTATE_DIR = \"{_folder}/state\"\nCONTROL_PORT = {DataSync.Core.Embedded.PostgresServer.FindFreePort()}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var start = await CliRunner.RunAsync(path, "start", "--foreground");
        Assert.Equal(1, start.ExitCode);
        Assert.Contains($"admin@127.0.0.1:{port}/d", start.Error);
        Assert.DoesNotContain("\"x\"", start.Error);
    }
}
