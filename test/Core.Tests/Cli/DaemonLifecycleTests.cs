using System.Diagnostics;
using System.Text.RegularExpressions;
using DataSync.Core.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>The daemon as a user meets it: start (detached), status, a second start, commands over remoting, stop.</summary>
public sealed partial class DaemonLifecycleTests
{
    [Fact]
    public async Task Start_status_second_start_and_stop_behave()
    {
        await using var local = await LocalCluster.StartAsync(nameof(Start_status_second_start_and_stop_behave));
        var state = Path.Combine(local.Root, "state");
        var config = await TestConfig.WriteAsync(local, extraLines: "DATA_SYNC_FREQ = 42");
        await local.ExecuteAsync("CREATE TABLE d1 (id int PRIMARY KEY)");

        var before = await CliRunner.RunAsync(config, "status");
        Assert.Equal(0, before.ExitCode);
        Assert.StartsWith("status: not-started\nsync frequency: 42\nstart time: \nrecords synced: 0\nerrors: 0\n", before.Out);

        var stoppedJson = await CliRunner.RunAsync(config, "status", "--json");
        Assert.Equal(0, stoppedJson.ExitCode);
        Assert.Equal("{\"status\":\"not-started\",\"sync_frequency_seconds\":42,\"start_time\":null,\"records_synced\":0,\"errors\":0,\"uptime_seconds\":null," +
            "\"last_successful_sync\":null,\"bootstrap\":null,\"local_database_problem\":null,\"start_problem\":null,\"stream\":null,\"bootstrap_progress\":null,\"tables\":[]}\n", stoppedJson.Out);

        var start = await CliRunner.RunAsync(config, "start");
        Assert.True(start.ExitCode == 0, start.Error + start.Out);
        var pid = int.Parse(PidPattern().Match(start.Out).Groups[1].Value);
        try
        {
            Assert.Contains(Path.Combine(state, "logs", "datasync.log"), start.Out);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(state, "control.token")));

            var running = await CliRunner.RunAsync(config, "status", "--verbose");
            Assert.Equal(0, running.ExitCode);
            var lines = running.Out.Split('\n');
            Assert.Equal("status: active", lines[0]);
            Assert.Equal("sync frequency: 42", lines[1]);
            Assert.Matches(@"^start time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", lines[2]);
            Assert.Equal("records synced: 0", lines[3]);
            Assert.Equal("errors: 0", lines[4]);
            Assert.Matches(@"^uptime: \d\dh \d\dm \d\ds$", lines[5]);

            var second = await CliRunner.RunAsync(config, "start");
            Assert.Equal(1, second.ExitCode);
            Assert.Contains($"already running (pid {pid}", second.Error);

            // A command sent to the running daemon acts at once and prints what the database path prints.
            var added = await CliRunner.RunAsync(config, "add-tables", "d1");
            Assert.True(added.ExitCode == 0, added.Error);
            Assert.Contains("added public.d1", added.Out);
            var verbose = await CliRunner.RunAsync(config, "status", "-v");
            Assert.Contains("table public.d1: state new", verbose.Out);
            var runningJson = await CliRunner.RunAsync(config, "status", "--json");
            Assert.Equal(0, runningJson.ExitCode);
            using (var document = System.Text.Json.JsonDocument.Parse(runningJson.Out))
            {
                Assert.Equal("active", document.RootElement.GetProperty("status").GetString());
                Assert.True(document.RootElement.GetProperty("uptime_seconds").GetInt64() >= 0);
                Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", document.RootElement.GetProperty("start_time").GetString());
                var table = Assert.Single(document.RootElement.GetProperty("tables").EnumerateArray());
                Assert.Equal(("public.d1", "new"), (table.GetProperty("table").GetString(), table.GetProperty("state").GetString()));
            }

            var stopWatch = Stopwatch.StartNew();
            var stop = await CliRunner.RunAsync(config, "stop");
            Assert.True(stop.ExitCode == 0, stop.Error);
            Assert.Contains($"datasync stopped (pid {pid})", stop.Out);
            Assert.True(stopWatch.Elapsed < TimeSpan.FromSeconds(20), $"stop took {stopWatch.Elapsed}");
            Assert.False(Processes.IsRunning(pid), "daemon process still alive after stop");
            Assert.False(File.Exists(Path.Combine(state, "control.token")));

            var after = await CliRunner.RunAsync(config, "status");
            Assert.StartsWith("status: not-started\n", after.Out);
            var again = await CliRunner.RunAsync(config, "stop");
            Assert.Equal(0, again.ExitCode);
            Assert.Contains("not running", again.Out);
        }
        finally
        {
            if (Processes.IsRunning(pid)) Process.GetProcessById(pid).Kill();
        }
    }

    [Fact]
    public async Task Start_says_at_once_when_the_local_user_may_not_set_the_replica_role()
    {
        await using var local = await LocalCluster.StartAsync("replica-role");
        await local.ExecuteAsync("""
            CREATE ROLE plain LOGIN PASSWORD 'plain-pw';
            GRANT ALL ON DATABASE datasync_local TO plain;
            GRANT ALL ON SCHEMA public TO plain;
            """);
        var config = await TestConfig.WriteAsync(local);
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(config))
            .Replace($"PG_USER_NAME = \"{LocalCluster.User}\"", "PG_USER_NAME = \"plain\"")
            .Replace($"PG_PASSWORD = \"{local.Password}\"", "PG_PASSWORD = \"plain-pw\""));

        var start = await CliRunner.RunAsync(config, "start", "--foreground");

        Assert.Equal(1, start.ExitCode);
        Assert.Contains("may not set session_replication_role", start.Error);
        Assert.Contains("GRANT SET ON PARAMETER session_replication_role TO \"plain\"", start.Error);
    }

    [GeneratedRegex(@"pid (\d+)")]
    private static partial Regex PidPattern();
}
