using System.Diagnostics;
using DataSync.Core.Embedded;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// The published <c>datasync</c> executable, driven as a user would drive it: a configuration file,
/// the table commands, and <c>start --foreground</c> as a child process whose memory can be read.
/// </summary>
internal sealed class DatasyncCli
{
    private DatasyncCli(string executable) => Executable = executable;

    public string Executable { get; }

    /// <summary>Publishes src/Cli in Release into <paramref name="output"/> (what `dotnet publish src/Cli -c Release -o DIR` gives a user), with <paramref name="properties"/> (NAME=VALUE) set.</summary>
    public static async Task<DatasyncCli> PublishAsync(string repositoryRoot, string output, IReadOnlyList<string> properties)
    {
        Console.WriteLine($"publishing datasync (Release{string.Concat(properties.Select(p => ", " + p))}) into {output}");
        var result = await Run("dotnet", ["publish", Path.Combine(repositoryRoot, "src", "Cli"), "-c", "Release", "-o", output, "--nologo", "-v", "quiet", .. properties.Select(p => "-p:" + p)], null);
        if (result.ExitCode != 0) throw new InvalidOperationException($"dotnet publish failed:\n{result.Out}\n{result.Error}");
        return new DatasyncCli(Path.Combine(output, "datasync"));
    }

    public async Task<string> RunAsync(string config, params string[] args)
    {
        var result = await Run(Executable, args, config);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"datasync {string.Join(' ', args)} exited {result.ExitCode}:\n{result.Out}\n{result.Error}");
        return result.Out;
    }

    /// <summary>Starts <c>datasync start --foreground</c>; its console output goes to <paramref name="consoleLog"/>.</summary>
    public DaemonProcess StartForeground(string config, string consoleLog)
    {
        var info = new ProcessStartInfo("sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" start --foreground >>\"$1\" 2>&1 </dev/null");
        info.ArgumentList.Add(Executable);
        info.ArgumentList.Add(consoleLog);
        info.Environment["DATA_SYNC_CONFIG"] = config;
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the daemon");
        return new DaemonProcess(this, config, process, consoleLog);
    }

    /// <summary>A datasync.toml (mode 0600) for a local cluster syncing from a production's archive and backups.</summary>
    public static async Task<string> WriteConfigAsync(EmbeddedLocal local, EmbeddedProduction production, string stateDir)
    {
        var (binaries, account) = await TestPostgres.GetAsync();
        var path = Path.Combine(local.Root, "datasync.toml");
        await File.WriteAllTextAsync(path, $"""
            PG_HOST = "127.0.0.1"
            PG_PORT = {local.Port}
            PG_USER_NAME = "{EmbeddedLocal.User}"
            PG_PASSWORD = "{local.Password}"
            PG_DB_NAME = "{EmbeddedLocal.Database}"
            PROD_DB_NAME = "{EmbeddedProduction.Database}"
            ARCHIVE_DIR = "{production.ArchiveDirectory}"
            BASE_BACKUP_DIR = "{production.BackupDirectory}"
            PG_BIN_DIR = "{binaries.BinDirectory}"
            STATE_DIR = "{stateDir}"
            CONTROL_PORT = {PostgresServer.FindFreePort()}
            DATA_SYNC_FREQ = 1
            {(account.SwitchesUser ? $"PG_OS_USER = \"{account.UserName}\"" : "")}
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    private static async Task<(int ExitCode, string Out, string Error)> Run(string file, IEnumerable<string> args, string? config)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        if (config is not null) info.Environment["DATA_SYNC_CONFIG"] = config;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }
}
