using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Failures that concern every table reach data_sync_logs as one FAILED row per cause (table_name "*"), the
/// repeats counted on that row and in status's <c>errors:</c>, while the tables stay as production had them.
/// </summary>
public sealed class DaemonFailureRowsTests
{
    private const string Ddl = "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, n int)";
    private static readonly Table[] Tables = [new("items", "id")];

    [Fact]
    public async Task An_sftp_host_key_refusal_is_one_FAILED_row_counted_while_it_repeats()
    {
        await using var production = await ProductionCluster.StartAsync("failure-sftp");
        await using var local = await LocalCluster.StartAsync("failure-sftp");
        await using var ssh = await SshServer.StartAsync("failure-sftp");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'i' || g, g FROM generate_series(1, 500) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var knownHosts = Path.Combine(local.Root, "known_hosts");
        File.Copy(ssh.KnownHostsFile, knownHosts);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        await File.WriteAllLinesAsync(config, (await File.ReadAllLinesAsync(config)).Where(l => !l.TrimStart().StartsWith("ARCHIVE_DIR", StringComparison.Ordinal)).Concat(
        [
            $"ARCHIVE_DIR = \"{ssh.Url(production.ArchiveDirectory)}\"",
            $"SSH_KEY_FILE = \"{ssh.UserKeyFile}\"",
            $"SSH_KNOWN_HOSTS = \"{knownHosts}\"",
        ]));
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items")).ExitCode);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
        Assert.Equal(0L, await FailedRowsAsync(local));

        // The backup machine's key changes (as a reinstall would): known_hosts now holds another key for it.
        var stranger = Path.Combine(local.Root, "stranger_key");
        await SshServer.NewKeyAsync(stranger);
        var strangerKey = (await File.ReadAllTextAsync(stranger + ".pub")).Split(' ');
        await File.WriteAllTextAsync(knownHosts, $"[{SshServer.Host}]:{ssh.Port} {strangerKey[0]} {strangerKey[1]}\n");
        await ssh.DropConnectionsAsync();
        await production.ExecuteAsync("UPDATE items SET n = n + 1 WHERE id % 5 = 0");
        await production.SwitchSegmentAndWaitArchivedAsync();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await local.QueryScalarAsync<long>("SELECT coalesce(max(occurrences), 0) FROM data_sync_logs WHERE status = 'FAILED'") < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the refusal was not met three times" + daemon.LogTail());
            await Task.Delay(500);
        }

        Assert.Equal(1L, await FailedRowsAsync(local));
        var row = await local.QueryScalarAsync<string>("SELECT table_name || ' | ' || error_detail FROM data_sync_logs WHERE status = 'FAILED'");
        Assert.StartsWith("* | ", row);
        Assert.Contains("table every synced table; archive file -; LSN -: reading the archive sftp://", row);
        Assert.Contains("SSH_KNOWN_HOSTS", row);
        Assert.Contains("ssh-keygen -R", row);
        Assert.Contains("nothing is fetched until the host key is sorted out", row);
        var log = Path.Combine(local.Root, "state", "logs", "datasync.log");
        Assert.Single(File.ReadLines(log), l => l.Contains("cannot be read (retried with a growing pause", StringComparison.Ordinal));

        // The key is trusted again: what production did meanwhile arrives, and the one row stays one row.
        File.Copy(ssh.KnownHostsFile, knownHosts, overwrite: true);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(180));
        Assert.Equal(1L, await FailedRowsAsync(local));
        var occurrences = await local.QueryScalarAsync<long>("SELECT occurrences FROM data_sync_logs WHERE status = 'FAILED'");
        var status = await CliRunner.RunAsync(config, "status");
        Assert.Contains($"errors: {occurrences}\n", status.Out);
        Assert.Equal(100L, await RowsSyncedAsync(local, "items"));
        await daemon.StopAsync();
    }

    [Fact]
    public async Task A_local_database_outage_is_one_FAILED_row_once_it_is_back_and_nothing_is_lost_or_doubled()
    {
        await using var production = await ProductionCluster.StartAsync("failure-outage");
        await using var local = await LocalCluster.StartAsync("failure-outage");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'i' || g, g FROM generate_series(1, 1000) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items")).ExitCode);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
        var down = DateTimeOffset.UtcNow;
        await local.Server.StopAsync();
        await production.ExecuteAsync("UPDATE items SET n = n + 1 WHERE id % 3 = 0; DELETE FROM items WHERE id % 10 = 0");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await Task.Delay(TimeSpan.FromSeconds(8));
        await production.ExecuteAsync("INSERT INTO items SELECT g, 'late', g FROM generate_series(2001, 2300) g");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.Server.StartAsync();

        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(180));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await FailedRowsAsync(local) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "no FAILED row for the outage" + daemon.LogTail());
            await Task.Delay(500);
        }

        await Task.Delay(TimeSpan.FromSeconds(5));
        Assert.True(await FailedRowsAsync(local) == 1, await FailedRowsTextAsync(local) + daemon.LogTail());
        var row = await local.QueryScalarAsync<string>("SELECT table_name || ' | ' || error_detail FROM data_sync_logs WHERE status = 'FAILED'");
        Assert.StartsWith("* | ", row);
        Assert.Contains("the local database was unreachable from ", row);
        Assert.Matches(@"\(back\), \d+ s, last failure at ", row);
        Assert.Contains($"the local database admin@127.0.0.1:{local.Port}/datasync_local is unreachable: ", row);
        Assert.Matches(@"Failed meanwhile: .*×\d+", row);
        Assert.Contains("Nothing is lost", row);
        Assert.DoesNotContain(local.Password, row);
        var since = DateTimeOffset.Parse(row[4..23] + "Z", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(since, down.AddSeconds(-2), down.AddSeconds(30));

        // Exactly once: 333 updated + 100 deleted + 300 inserted, each logged once.
        Assert.Equal(333L + 100 + 300, await RowsSyncedAsync(local, "items"));
        var occurrences = await local.QueryScalarAsync<long>("SELECT occurrences FROM data_sync_logs WHERE status = 'FAILED'");
        Assert.True(occurrences >= 1);
        // The server's restart dropped the daemon's lock session: the daemon took the lock again, so the CLI still finds it.
        var status = await CliRunner.RunAsync(config, "status");
        Assert.Contains("status: active\n", status.Out);
        Assert.Contains($"errors: {occurrences}\n", status.Out);
        await using (var logFile = new FileStream(Path.Combine(local.Root, "state", "logs", "datasync.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            Assert.Contains("the daemon lock is held again", await new StreamReader(logFile).ReadToEndAsync());
        await daemon.StopAsync();
    }

    private static Task<string> FailedRowsTextAsync(LocalCluster local) =>
        local.QueryScalarAsync<string>("SELECT coalesce(string_agg(table_name || ' | ' || error_detail, E'\\n' ORDER BY sync_time), '') FROM data_sync_logs WHERE status = 'FAILED'");

    private static Task<long> FailedRowsAsync(LocalCluster local) =>
        local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'");
}
