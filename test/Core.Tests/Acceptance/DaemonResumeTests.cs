using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using Npgsql;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// The stream resumes each run at the first record of the oldest transaction still open when the last
/// batch closed. Transactions that straddle that point must neither be lost nor pause a table: two
/// sessions, a segment switch between their records, and the daemon running in between.
/// </summary>
public sealed class DaemonResumeTests
{
    private const string Ddl = """
        CREATE TABLE t1 (id int PRIMARY KEY, v text);
        CREATE TABLE t2 (id int PRIMARY KEY, v text);
        CREATE TABLE unsynced (id int PRIMARY KEY);
        """;

    private static readonly Table[] Tables = [new("t1", "id"), new("t2", "id")];

    /// <summary>
    /// A transaction whose first WAL record is not a change of a synced table (a row lock, a write to an
    /// unsynced table) is open when a batch closes; its synced changes come after. The next run starts
    /// at its first synced change, after that first record, and must still take it whole.
    /// </summary>
    [Fact]
    public async Task A_transaction_whose_first_record_is_not_a_synced_change_survives_a_resume()
    {
        await using var rig = await StartAsync("resume-first-record");
        await using var open = await rig.Production.Server.OpenAsync(ProductionCluster.Database);
        await using var transaction = await open.BeginTransactionAsync();
        // Its first records: a row lock on a synced table, then a write to a table that is not synced.
        await ExecuteAsync(open, "SELECT * FROM t1 WHERE id = 1 FOR UPDATE");
        await ExecuteAsync(open, "INSERT INTO unsynced VALUES (1)");
        await ExecuteAsync(open, "INSERT INTO t1 VALUES (100, 'from the straddling transaction')");
        await rig.Production.ExecuteAsync("INSERT INTO t2 VALUES (100, 'committed meanwhile')");
        await rig.Production.SwitchSegmentAndWaitArchivedAsync();
        await WaitTableAsync(rig, new Table("t2", "id"));

        await ExecuteAsync(open, "UPDATE t1 SET v = 'locked and changed' WHERE id = 1");
        await transaction.CommitAsync();
        await rig.Production.SwitchSegmentAndWaitArchivedAsync();

        await WaitIdenticalAsync(rig.Production, rig.Local, Tables, rig.Daemon, TimeSpan.FromSeconds(60));
        Assert.Equal(0L, await rig.Local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        Assert.Equal(2L, await RowsSyncedAsync(rig.Local, "t1"));
        await rig.Daemon.StopAsync();
    }

    /// <summary>
    /// A transaction that began before the resume point but committed before the last batch closed was
    /// already routed; read again by the next run it must not pause a table that had nothing in it (that
    /// table's checkpoint did not move in that batch, so it still "wants" the commit).
    /// </summary>
    [Fact]
    public async Task A_commit_read_again_after_a_resume_pauses_no_table()
    {
        await using var rig = await StartAsync("resume-read-again");
        await using var first = await rig.Production.Server.OpenAsync(ProductionCluster.Database);
        await using var second = await rig.Production.Server.OpenAsync(ProductionCluster.Database);
        await rig.Production.ExecuteAsync("INSERT INTO t2 VALUES (100, 't2 before')");
        // First begins, then second; first commits (t1 only), second stays open over the segment switch.
        await using var early = await first.BeginTransactionAsync();
        await ExecuteAsync(first, "INSERT INTO t1 VALUES (100, 'early')");
        await using var late = await second.BeginTransactionAsync();
        await ExecuteAsync(second, "INSERT INTO t1 VALUES (200, 'late')");
        await early.CommitAsync();
        await rig.Production.SwitchSegmentAndWaitArchivedAsync();
        await WaitRowAsync(rig, "SELECT count(*) FROM t1 WHERE id = 100");

        await ExecuteAsync(second, "INSERT INTO t1 VALUES (201, 'late too')");
        await late.CommitAsync();
        await rig.Production.ExecuteAsync("INSERT INTO t2 VALUES (101, 't2 after')");
        await rig.Production.SwitchSegmentAndWaitArchivedAsync();

        await WaitIdenticalAsync(rig.Production, rig.Local, Tables, rig.Daemon, TimeSpan.FromSeconds(60));
        Assert.Equal(0L, await rig.Local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        Assert.Equal(3L, await RowsSyncedAsync(rig.Local, "t1"));
        Assert.Equal(2L, await RowsSyncedAsync(rig.Local, "t2"));
        await rig.Daemon.StopAsync();
    }

    /// <summary>
    /// A daemon stopped with everything applied restarts at the start of a segment not archived yet. The spool keeps the
    /// newest segment it read, so the restarted daemon fetches on from it (from the spool alone, before the local database
    /// is reached), and that segment, read already, is not applied twice.
    /// </summary>
    [Fact]
    public async Task A_daemon_stopped_caught_up_keeps_its_newest_segment_and_fetches_on_from_it()
    {
        await using var rig = await StartAsync("resume-caught-up");
        await rig.Production.ExecuteAsync("INSERT INTO t2 SELECT g, 'before the stop' FROM generate_series(1, 50) g");
        var newest = await rig.Production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(rig.Production, rig.Local, Tables, rig.Daemon, TimeSpan.FromSeconds(60));
        var spool = Path.Combine(rig.Local.Root, "state", "spool");
        string[] Spooled() => Directory.EnumerateFiles(spool).Select(Path.GetFileName).Where(n => n!.Length == 24).Order().ToArray()!;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!Spooled().SequenceEqual([newest]))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the spool holds [{string.Join(", ", Spooled())}], not just {newest}" + rig.Daemon.LogTail());
            await Task.Delay(250);
        }

        await rig.Daemon.StopAsync();
        Assert.Equal([newest], Spooled());

        await rig.Production.ExecuteAsync("INSERT INTO t2 SELECT g, 'while stopped' FROM generate_series(51, 70) g; UPDATE t1 SET v = 'while stopped' WHERE id <= 3");
        var next = await rig.Production.SwitchSegmentAndWaitArchivedAsync();
        await using var again = await DaemonRun.StartAsync(rig.Config, rig.Local);
        await WaitIdenticalAsync(rig.Production, rig.Local, Tables, again, TimeSpan.FromSeconds(60));
        await using (var log = new FileStream(Path.Combine(rig.Local.Root, "state", "logs", "datasync.log"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            Assert.Contains($"first segment {next} fetched into the spool", await new StreamReader(log).ReadToEndAsync());
        Assert.Equal(70L, await RowsSyncedAsync(rig.Local, "t2"));
        Assert.Equal(3L, await RowsSyncedAsync(rig.Local, "t1"));
        Assert.Equal(0L, await rig.Local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        await again.StopAsync();
    }

    private sealed class Rig(ProductionCluster production, LocalCluster local, DaemonRun daemon, string config) : IAsyncDisposable
    {
        public string Config { get; } = config;
        public ProductionCluster Production { get; } = production;
        public LocalCluster Local { get; } = local;
        public DaemonRun Daemon { get; } = daemon;

        public async ValueTask DisposeAsync()
        {
            await Daemon.DisposeAsync();
            await Local.DisposeAsync();
            await Production.DisposeAsync();
        }
    }

    private static async Task<Rig> StartAsync(string name)
    {
        var production = await ProductionCluster.StartAsync(name);
        var local = await LocalCluster.StartAsync(name);
        await production.ExecuteAsync(Ddl + "INSERT INTO t1 SELECT g, 'v' || g FROM generate_series(1, 10) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "t1, t2")).ExitCode);
        var daemon = await DaemonRun.StartAsync(config, local);
        var rig = new Rig(production, local, daemon, config);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(90));
        // The bootstrap is done when both tables sync.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await local.QueryScalarAsync<long>("SELECT count(*) FROM datasync_table_state WHERE state = 'syncing'") < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the tables did not reach state syncing" + daemon.LogTail());
            await Task.Delay(250);
        }

        return rig;
    }

    private static Task WaitTableAsync(Rig rig, Table table) =>
        WaitIdenticalAsync(rig.Production, rig.Local, [table], rig.Daemon, TimeSpan.FromSeconds(60));

    private static async Task WaitRowAsync(Rig rig, string countSql)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await rig.Local.QueryScalarAsync<long>(countSql) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{countSql}' stayed 0 locally" + rig.Daemon.LogTail());
            await Task.Delay(250);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
