using System.Text.RegularExpressions;
using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// A newcomer's production as it is: its superuser is not <c>postgres</c> and its database is not named like
/// the local one. Without PROD_DB_NAME the daemon says so once (one log line, one FAILED row, a status line
/// that names the databases the backup holds and the key to set) and retries with backoff, its log still;
/// with PROD_DB_NAME set it bootstraps and syncs. The daemon runs from a folder of its own, where Akka
/// must leave no snapshot store.
/// </summary>
[Collection(nameof(CurrentDirectoryCollection))]
public sealed partial class DaemonBootstrapTests
{
    private const string Ddl = "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2))";
    private static readonly Table[] Tables = [new("items", "id")];

    [Fact]
    public async Task Production_as_it_is_a_missing_PROD_DB_NAME_is_said_once_and_once_set_the_tables_sync()
    {
        await using var production = await ProductionCluster.StartAsync("daemon-prod-as-is",
            shape: new ProductionShape { Superuser = "admin", Database = "Analytics" });
        await using var local = await LocalCluster.StartAsync("daemon-prod-as-is");
        await production.ExecuteAsync(Ddl + "; INSERT INTO items SELECT g, 'item ' || g, g FROM generate_series(1, 1500) g");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.ExecuteAsync("UPDATE items SET price = price + 1 WHERE id % 5 = 0");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);

        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        await File.WriteAllLinesAsync(config, (await File.ReadAllLinesAsync(config)).Where(l => !l.TrimStart().StartsWith("PROD_DB_NAME", StringComparison.Ordinal)));
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "items")).ExitCode);
        var log = Path.Combine(local.Root, "state", "logs", "datasync.log");
        var workingDirectory = Path.Combine(local.Root, "cwd");
        Directory.CreateDirectory(workingDirectory);

        await using (var daemon = await StartInAsync(workingDirectory, config, local))
        {
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'") == 0)
            {
                Assert.True(DateTime.UtcNow < deadline, "no FAILED row" + daemon.LogTail());
                await Task.Delay(500);
            }

            var firstFailure = DateTime.UtcNow;
            var detail = await local.QueryScalarAsync<string>("SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED'");
            Assert.Contains("PROD_DB_NAME", detail);
            Assert.Contains($"\"{EmbeddedLocal.Database}\"", detail);
            Assert.Contains("\"Analytics\"", detail);

            var status = await CliRunner.RunAsync(config, "status", "--verbose");
            Assert.Contains("bootstrap: public.items: bootstrap failing since ", status.Out);
            Assert.Contains("PROD_DB_NAME", status.Out);
            Assert.Contains("table public.items: state new", status.Out);

            // While the cause stays, the log stays as it is: retries are counted, not logged.
            await Task.Delay(TimeSpan.FromSeconds(8));
            var size = new FileInfo(log).Length;
            await Task.Delay(TimeSpan.FromSeconds(22));
            Assert.True(size == new FileInfo(log).Length, "the log grew while the bootstrap kept failing:" + daemon.LogTail());
            Assert.Single(File.ReadLines(log), l => l.Contains("PROD_DB_NAME", StringComparison.Ordinal));
            Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));

            // Each attempt restores the backup; the backoff (5 s doubling, less 20 % jitter at most) bounds how many there were.
            var elapsed = (DateTime.UtcNow - firstFailure).TotalSeconds + 2;
            var bound = 1;
            while (4 * (Math.Pow(2, bound) - 1) <= elapsed) bound++;
            var attempts = int.Parse(AttemptsPattern().Match((await CliRunner.RunAsync(config, "status")).Out).Groups[1].Value);
            Assert.InRange(attempts, 2, bound);
            // The attempts after the first are counted on the one FAILED row (an attempt may fall between the two reads).
            var occurrences = await local.QueryScalarAsync<long>("SELECT occurrences FROM data_sync_logs WHERE status = 'FAILED'");
            Assert.InRange(occurrences, attempts, attempts + 1);
            await daemon.StopAsync();
        }

        await File.AppendAllTextAsync(config, "\nPROD_DB_NAME = \"Analytics\"\n");
        await using (var daemon = await StartInAsync(workingDirectory, config, local))
        {
            await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
            await production.ExecuteAsync("DELETE FROM items WHERE id % 7 = 0; INSERT INTO items VALUES (9000, 'late', NULL)");
            await production.SwitchSegmentAndWaitArchivedAsync();
            await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(60));
            Assert.DoesNotContain("bootstrap:", (await CliRunner.RunAsync(config, "status")).Out);
            await daemon.StopAsync();
        }

        Assert.False(Directory.Exists(Path.Combine(workingDirectory, "snapshots")), "Akka made a local snapshot store in the daemon's working directory");
        Assert.DoesNotContain("snapshot directory", await File.ReadAllTextAsync(log));
    }

    /// <summary>Starts the daemon with <paramref name="workingDirectory"/> as its current directory (it inherits this process's).</summary>
    private static async Task<DaemonRun> StartInAsync(string workingDirectory, string config, LocalCluster local)
    {
        var previous = Environment.CurrentDirectory;
        Environment.CurrentDirectory = workingDirectory;
        try
        {
            return await DaemonRun.StartAsync(config, local);
        }
        finally
        {
            Environment.CurrentDirectory = previous;
        }
    }

    [GeneratedRegex(@"(\d+) attempt\(s\)")]
    private static partial Regex AttemptsPattern();
}
