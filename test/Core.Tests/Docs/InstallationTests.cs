using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using DataSync.Core.Embedded;
using DataSync.Embedded;
using DataSync.Core.Tests.Acceptance;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Docs;

/// <summary>
/// The readme's Installation section and its systemd unit, followed as written on this machine: the commands
/// are read from the readme (so the test breaks when the docs drift), run under a temporary prefix (put before
/// /opt, /etc and /var paths) with the rig's unprivileged account standing in for the `datasync` user; then the
/// daemon runs the way the unit's ExecStart runs it, as that user, syncs a table, and ExecStop stops it.
/// </summary>
public sealed class InstallationTests
{
    /// <summary>The OS user the readme creates and the unit runs as.</summary>
    private const string DocumentedUser = "datasync";

    [Fact]
    public async Task Installation_and_the_systemd_unit_as_documented_end_with_a_syncing_daemon_run_by_an_unprivileged_user()
    {
        var (binaries, account) = await TestPostgres.GetAsync();
        Assert.True(account.UserName is not null, "run the tests as root: the readme installs as root and runs the daemon as another user");
        var user = account.UserName!;
        var repository = DocumentedSurface.RepositoryRoot();
        var readme = await File.ReadAllTextAsync(Path.Combine(repository, "docs", "syncdata-readme.md"));
        var install = CodeBlock(Section(readme, "## Installation"), "sh");
        var unit = CodeBlock(Section(readme, "### Running under systemd"), "ini");
        Assert.Equal(DocumentedUser, UnitValue(unit, "User"));

        await using var production = await ProductionCluster.StartAsync("install");
        await using var local = await LocalCluster.StartAsync("install");
        var prefix = TestPostgres.NewClusterRoot("install-prefix");
        string Installed(string line) => Regex.Replace(
            Regex.Replace(line, @"(?<![\w/])(/opt/datasync|/etc/datasync|/var/lib/datasync)", m => prefix + m.Value),
            $@"(?<=\s){DocumentedUser}(?=\s|$)", user);
        try
        {
            const string ddl = "CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2));";
            await production.ExecuteAsync(ddl + "INSERT INTO accounts SELECT g, 'o' || g, g * 1.5 FROM generate_series(1, 300) g;");
            await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
            await production.SwitchSegmentAndWaitArchivedAsync();
            await local.ExecuteAsync(ddl);
            // The backup machine's folders are readable by the daemon's user (see "On the backup machine").
            await account.TakeOwnershipAsync(production.BackupDirectory);

            // Installation: every command as written, the configuration edited where the readme says "edit it".
            var commands = install.Split('\n').Select(l => l.Trim())
                .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith("git clone", StringComparison.Ordinal)).ToList();
            Assert.Contains(commands, c => c.StartsWith("dotnet publish", StringComparison.Ordinal));
            var configPath = Installed("/etc/datasync/datasync.toml");
            var statePath = Installed("/var/lib/datasync");
            var controlPort = PostgresServer.FindFreePort();
            foreach (var command in commands.Select(Installed))
            {
                if (command.Contains(" status", StringComparison.Ordinal))
                {
                    // The sample was installed with the documented owner and mode; writing keeps both.
                    await File.WriteAllTextAsync(configPath, $"""
                        PG_HOST = "127.0.0.1"
                        PG_PORT = {local.Port}
                        PG_USER_NAME = "{EmbeddedLocal.User}"
                        PG_PASSWORD = "{local.Password}"
                        PG_DB_NAME = "{EmbeddedLocal.Database}"
                        PROD_DB_NAME = "{production.DatabaseName}"
                        DATA_SYNC_FREQ = 1
                        ARCHIVE_DIR = "{production.ArchiveDirectory}"
                        BASE_BACKUP_DIR = "{production.BackupDirectory}"
                        PG_BIN_DIR = "{binaries.BinDirectory}"
                        STATE_DIR = "{statePath}"
                        CONTROL_PORT = {controlPort}
                        """);
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(configPath));
                    Assert.Equal(user, (await Shell($"stat -c %U {configPath}", repository)).StandardOutput.Trim());
                    var status = await Shell(command, repository);
                    Assert.True(status.ExitCode == 0, $"{command}\n{status.StandardOutput}{status.StandardError}");
                    Assert.StartsWith("status: not-started\n", status.StandardOutput);
                    Assert.DoesNotContain("warning", status.StandardError);
                    continue;
                }

                var result = await Shell(command, repository);
                Assert.True(result.ExitCode == 0, $"{command}\nexit {result.ExitCode}\n{result.StandardOutput}{result.StandardError}");
            }

            Assert.True(File.Exists(Installed("/opt/datasync/datasync.hocon")), "datasync.hocon is not beside the published program");
            // The documented publish precompiles our own assemblies and the start-up path's libraries, not the checkpoint
            // journal's (catch-up speed at little memory).
            foreach (var assembly in new[] { "datasync.dll", "DataSync.Wal.dll", "DataSync.Core.dll", "DataSync.Actors.dll", "Npgsql.dll", "Akka.dll", "Akka.Remote.dll" })
                Assert.True(IsReadyToRun(Installed("/opt/datasync/" + assembly)), $"{assembly} was published without ReadyToRun code");
            foreach (var assembly in new[] { "linq2db.dll", "Akka.Persistence.Sql.dll", "LanguageExt.Core.dll" })
                Assert.False(IsReadyToRun(Installed("/opt/datasync/" + assembly)), $"{assembly} was precompiled: the checkpoint journal's libraries stay JIT-compiled");
            Assert.Contains("\"System.Runtime.TieredPGO\": false", await File.ReadAllTextAsync(Installed("/opt/datasync/datasync.runtimeconfig.json")));

            // The unit: ExecStart as User with its Environment, as systemd would run it.
            var environment = UnitValue(unit, "Environment");
            var cli = $"runuser -u {user} -- env {Installed(environment)}";
            var daemon = StartForeground($"{cli} {Installed(UnitValue(unit, "ExecStart"))}", repository, out var journal);
            try
            {
                await WaitAsync(async () => (await Shell($"{cli} {Installed("/opt/datasync/datasync")} status", repository)).StandardOutput.StartsWith("status: active\n"),
                    TimeSpan.FromSeconds(90), () => "the daemon never reported active; its console:\n" + journal);
                var added = await Shell($"{cli} {Installed("/opt/datasync/datasync")} add-tables accounts", repository);
                Assert.True(added.ExitCode == 0, added.StandardError);
                Assert.Contains("added public.accounts", added.StandardOutput);

                var table = new SyncedTables.Table("accounts", "id");
                await WaitAsync(async () => (await SyncedTables.DifferentAsync(production, local, [table])).Count == 0, TimeSpan.FromSeconds(120),
                    () => "accounts did not become identical to production; the daemon's console:\n" + journal);
                await production.ExecuteAsync("UPDATE accounts SET balance = balance + 1 WHERE id % 7 = 0; DELETE FROM accounts WHERE id > 290; INSERT INTO accounts VALUES (1000, 'late', NULL);");
                await production.SwitchSegmentAndWaitArchivedAsync();
                await WaitAsync(async () => (await SyncedTables.DifferentAsync(production, local, [table])).Count == 0, TimeSpan.FromSeconds(90),
                    () => "accounts did not follow production's changes; the daemon's console:\n" + journal);

                // What the daemon created belongs to its user.
                Assert.Equal(user, (await Shell($"stat -c %U {statePath}/control.token", repository)).StandardOutput.Trim());

                var stop = await Shell($"{cli} {Installed(UnitValue(unit, "ExecStop"))}", repository);
                Assert.True(stop.ExitCode == 0, stop.StandardError);
                Assert.True(daemon.WaitForExit(TimeSpan.FromSeconds(60)), "the daemon did not exit after ExecStop");
                Assert.Equal(0, daemon.ExitCode);
                // The whole console in the message: a stack trace or an error says nothing without what led to it.
                var console = journal.ToString();
                Assert.False(console.Contains("   at ", StringComparison.Ordinal), "the daemon printed a stack trace; its console:\n" + console);
                // Our console lines read "[12:00:00 ERR] …"; Akka's own, once the log has gone at the very end, "[ERROR][…".
                Assert.False(Regex.IsMatch(console, @"^\[(\d\d:\d\d:\d\d ERR|ERROR)\]", RegexOptions.Multiline), "the daemon logged an error; its console:\n" + console);
            }
            finally
            {
                if (!daemon.HasExited) daemon.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            try
            {
                Directory.Delete(prefix, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Whether the assembly carries precompiled (ReadyToRun) code: its CLR header points at a native header.</summary>
    private static bool IsReadyToRun(string path)
    {
        using var reader = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(path));
        return reader.PEHeaders.CorHeader is { ManagedNativeHeaderDirectory.Size: > 0 };
    }

    private static Task<ProcessResult> Shell(string command, string workingDirectory) =>
        ProcessRunner.RunAsync("bash", ["-c", command], Quiet, workingDirectory);

    /// <summary>Keeps the publish from leaving MSBuild nodes behind in the test run.</summary>
    private static readonly Dictionary<string, string> Quiet = new()
    {
        ["MSBUILDDISABLENODEREUSE"] = "1",
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    private static Process StartForeground(string command, string workingDirectory, out StringBuilder console)
    {
        var info = new ProcessStartInfo("bash", ["-c", "exec " + command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        var output = new StringBuilder();
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        console = output;
        return process;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure());
            await Task.Delay(500);
        }
    }

    /// <summary>The text under a heading, up to the next heading of the same or a higher level (a '#' inside a code block is no heading).</summary>
    private static string Section(string markdown, string heading)
    {
        var lines = markdown.Split('\n');
        var start = Array.IndexOf(lines, heading);
        Assert.True(start >= 0, $"the readme has no '{heading}' section");
        var level = heading.TakeWhile(c => c == '#').Count();
        var inCode = false;
        var end = start + 1;
        for (; end < lines.Length; end++)
        {
            if (lines[end].StartsWith("```", StringComparison.Ordinal)) inCode = !inCode;
            if (!inCode && Regex.IsMatch(lines[end], $"^#{{1,{level}}} ")) break;
        }

        return string.Join('\n', lines[start..end]);
    }

    /// <summary>The first fenced code block of the given language.</summary>
    private static string CodeBlock(string section, string language)
    {
        var match = Regex.Match(section, $"```{language}\\n(.*?)```", RegexOptions.Singleline);
        Assert.True(match.Success, $"no ```{language} block in:\n{section}");
        return match.Groups[1].Value;
    }

    private static string UnitValue(string unit, string key)
    {
        var match = Regex.Match(unit, $"^{key}=(.*)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"the unit has no {key}=");
        return match.Groups[1].Value.Trim();
    }
}
