using System.Diagnostics;
using System.Text.RegularExpressions;
using Akka.Actor;
using Akka.Configuration;
using DataSync.Actors.Hosting;
using DataSync.Actors.Pipeline;
using DataSync.Embedded;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;

namespace DataSync.Core.Tests.Cli;

/// <summary>
/// A local process that speaks the Akka protocol but does not hold the control token, aimed at a real daemon:
/// whatever it sends to whichever path, the daemon lives on, its checkpoints stay where they were, and it says
/// in its log that it refused. Also: STATE_DIR and what the daemon writes there are private to its user.
/// </summary>
public sealed partial class ControlChannelSecurityTests
{
    private const string Ddl = "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);";

    [Fact]
    public async Task An_akka_client_without_the_token_changes_nothing_and_is_logged_as_refused()
    {
        await using var production = await ProductionCluster.StartAsync("forged-akka");
        await using var local = await LocalCluster.StartAsync("forged-akka");
        await production.ExecuteAsync(Ddl + "INSERT INTO items SELECT g, 'i' || g FROM generate_series(1, 200) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.ExecuteAsync("INSERT INTO items SELECT g, 'w' || g FROM generate_series(201, 300) g;");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        var port = int.Parse(ControlPortPattern().Match(await File.ReadAllTextAsync(config)).Groups[1].Value);
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items")).ExitCode);

        var start = await CliRunner.RunAsync(config, "start");
        Assert.True(start.ExitCode == 0, start.Error + start.Out);
        var pid = int.Parse(PidPattern().Match(start.Out).Groups[1].Value);
        var attacker = ActorSystem.Create("attacker", ConfigurationFactory.ParseString("""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp.hostname = 127.0.0.1
            akka.remote.dot-netty.tcp.port = 0
            akka.loglevel = WARNING
            """));
        try
        {
            await WaitRowsAsync(local, 300);
            const string CheckpointQuery = "SELECT checkpoint_lsn::text || ' ' || state FROM datasync_table_state WHERE table_name = 'public.items'";
            var before = await local.QueryScalarAsync<string>(CheckpointQuery);

            // Akka's defaults on the attacker's side: Newtonsoft with $type names for anything without a binding.
            var daemon = $"akka.tcp://{DaemonHost.ActorSystemName}@127.0.0.1:{port}";
            var applier = TableApplier.ActorName(new TableName("public", "items"));
            string[] targets =
            [
                "/user/sync", "/user/sync/stream-supervisor/stream", "/user/control",
                .. Enumerable.Range(1, 4).Select(n => $"/user/sync/stream-supervisor/stream/{applier}-{n}"),
            ];
            var provider = ((ExtendedActorSystem)attacker).Provider;
            var forged = new object[]
            {
                new PauseTable(new Lsn(0x10_0000_0000), "forged", 1),
                new CommitBatch(new Lsn(0x7FFF_0000_0000_0000), 1),
                new BeginBatch(new Lsn(0x7FFF_0000_0000_0000), 1, 1),
                new Dictionary<string, object> { ["nested"] = new CommitBatch(new Lsn(0x7FFF_0000_0000_0000), 1) },
                PoisonPill.Instance,
                Kill.Instance,
            };
            foreach (var target in targets)
            {
                var direct = provider.ResolveActorRef(daemon + target);
                foreach (var message in forged)
                {
                    direct.Tell(message, ActorRefs.NoSender);
                    attacker.ActorSelection(daemon + target).Tell(message, ActorRefs.NoSender);
                }

                // A system message stops any actor it reaches, whatever the actor's code says.
                ((IInternalActorRef)direct).Stop();
            }

            await Task.Delay(TimeSpan.FromSeconds(4));

            Assert.True(Processes.IsRunning(pid), "the daemon died:\n" + DaemonLogTail(local));
            var status = await CliRunner.RunAsync(config, "status");
            Assert.True(status.ExitCode == 0 && status.Out.StartsWith("status: active\n", StringComparison.Ordinal), status.Out + status.Error);
            Assert.Equal(before, await local.QueryScalarAsync<string>(CheckpointQuery));
            var log = await File.ReadAllTextAsync(Path.Combine(local.Root, "state", "logs", "datasync.log"));
            foreach (var serializer in new[] { "'json'", "'akka-misc'", "'akka-system-msg'" })
                Assert.Contains($"refused a message that arrived over remoting: serializer {serializer}", log);

            // And it still syncs.
            await production.ExecuteAsync("INSERT INTO items SELECT g, 'after' FROM generate_series(301, 350) g;");
            await production.SwitchSegmentAndWaitArchivedAsync();
            await WaitRowsAsync(local, 350);

            // STATE_DIR and what the daemon wrote there belong to the daemon's user: 0700/0600. When it runs as root
            // with PG_OS_USER, that account's group may read (the restores' restore_command copies from the spool): 2750/0640.
            var (_, account) = await TestPostgres.GetAsync();
            var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            var (folders, files) = account.SwitchesUser
                ? (owner | UnixFileMode.UserExecute | UnixFileMode.SetGroup | UnixFileMode.GroupRead | UnixFileMode.GroupExecute, owner | UnixFileMode.GroupRead)
                : (owner | UnixFileMode.UserExecute, owner);
            AssertModes(Path.Combine(local.Root, "state"), folders, files);
            Assert.Equal(0, (await CliRunner.RunAsync(config, "stop")).ExitCode);
        }
        finally
        {
            await attacker.Terminate();
            if (Processes.IsRunning(pid)) Process.GetProcessById(pid).Kill();
        }
    }

    /// <summary>STATE_DIR and every folder under it but the restores (the restore code's) have exactly the given mode, files no more than theirs, the token 0600.</summary>
    private static void AssertModes(string state, UnixFileMode folders, UnixFileMode files)
    {
        Assert.Equal(folders, File.GetUnixFileMode(state));
        var seen = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries(state, "*", SearchOption.AllDirectories))
        {
            if (Path.GetRelativePath(state, entry).Split('/')[0] == "restores") continue;
            var mode = File.GetUnixFileMode(entry);
            if (Directory.Exists(entry))
                Assert.True(mode == folders, $"{entry} has mode {mode}, not {folders}");
            else if (Path.GetFileName(entry) == "control.token")
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
            else
                Assert.True((mode & ~files) == 0 && mode.HasFlag(UnixFileMode.UserRead), $"{entry} has mode {mode}, more than {files}");
            seen++;
        }

        // The log, the console log, the token, the spool and its segments at least.
        Assert.True(seen >= 6, $"only {seen} entries under STATE_DIR");
    }

    private static async Task WaitRowsAsync(LocalCluster local, long rows)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (await local.QueryScalarAsync<long>("SELECT count(*) FROM items") != rows)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the local table did not reach {rows} rows within 90 s; the daemon's log ends:\n" + DaemonLogTail(local));
            await Task.Delay(500);
        }
    }

    private static string DaemonLogTail(LocalCluster local)
    {
        var log = Path.Combine(local.Root, "state", "logs", "datasync.log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(40)) : "(no log)";
    }

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();

    [GeneratedRegex(@"CONTROL_PORT = (\d+)")]
    private static partial Regex ControlPortPattern();
}
