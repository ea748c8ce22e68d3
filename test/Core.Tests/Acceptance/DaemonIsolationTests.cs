using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// What concerns one table pauses that table alone, with one FAILED row: a conflict with a local change, a
/// value the local table cannot take, a change of its definition upstream. The stream and the other table go
/// on, identical to production; nothing is logged for every table.
/// </summary>
public sealed class DaemonIsolationTests
{
    private const string ProductionDdl = """
        CREATE TABLE conflicted (id int PRIMARY KEY, name text NOT NULL);
        CREATE TABLE narrow (id int PRIMARY KEY, code text NOT NULL);
        CREATE TABLE altered (id int PRIMARY KEY, n int);
        CREATE TABLE steady (id int PRIMARY KEY, n int, note text);
        """;

    // Locally the code column is narrower than production's: a longer value upstream cannot be stored.
    private const string LocalDdl = """
        CREATE TABLE conflicted (id int PRIMARY KEY, name text NOT NULL);
        CREATE TABLE narrow (id int PRIMARY KEY, code varchar(8) NOT NULL);
        CREATE TABLE altered (id int PRIMARY KEY, n int);
        CREATE TABLE steady (id int PRIMARY KEY, n int, note text);
        """;

    private static readonly Table[] Steady = [new("steady", "id")];

    [Fact]
    public async Task A_conflict_an_unfitting_value_and_a_DDL_change_each_pause_only_their_table()
    {
        await using var production = await ProductionCluster.StartAsync("isolation");
        await using var local = await LocalCluster.StartAsync("isolation");
        await production.ExecuteAsync(ProductionDdl + """
            INSERT INTO conflicted SELECT g, 'c' || g FROM generate_series(1, 300) g;
            INSERT INTO narrow SELECT g, 'k' || g FROM generate_series(1, 300) g;
            INSERT INTO altered SELECT g, g FROM generate_series(1, 300) g;
            INSERT INTO steady SELECT g, g, 's' FROM generate_series(1, 1000) g;
            """);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(LocalDdl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1\nSCHEMA_CHANGES = \"pause\"");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "conflicted narrow altered steady")).ExitCode);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, [new("conflicted", "id"), new("narrow", "id"), new("altered", "id"), .. Steady], daemon, TimeSpan.FromSeconds(120));

        await local.ExecuteAsync("SET session_replication_role = replica; DELETE FROM conflicted WHERE id = 7");
        await production.ExecuteAsync("UPDATE conflicted SET name = 'changed' WHERE id = 7");
        await production.ExecuteAsync("INSERT INTO narrow VALUES (301, 'a code much longer than eight')");
        await production.ExecuteAsync("ALTER TABLE altered ALTER COLUMN n TYPE bigint");
        await production.ExecuteAsync("UPDATE steady SET n = n * 2 WHERE id % 3 = 0; DELETE FROM steady WHERE id % 11 = 0; INSERT INTO steady VALUES (5001, 1, 'new')");
        await production.SwitchSegmentAndWaitArchivedAsync();

        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (await local.QueryScalarAsync<long>("SELECT count(*) FROM datasync_table_state WHERE state = 'paused'") < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the three tables did not pause" + daemon.LogTail() +
                await local.QueryScalarAsync<string>("SELECT string_agg(table_name || ' ' || state, ', ') FROM datasync_table_state"));
            await Task.Delay(500);
        }

        await WaitIdenticalAsync(production, local, Steady, daemon, TimeSpan.FromSeconds(60));
        // Still going: a later change reaches the steady table.
        await production.ExecuteAsync("UPDATE steady SET note = 'later' WHERE id < 100");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, Steady, daemon, TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(3));

        Assert.Equal("syncing", await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.steady'"));
        Assert.Equal(3L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED' AND table_name IN ('*', 'public.steady')"));
        await AssertFailedAsync(local, "conflicted", "the row to update is not in the local table");
        await AssertFailedAsync(local, "narrow", "a change production committed does not fit the local table");
        await AssertFailedAsync(local, "altered", "production changed the table's definition");
        Assert.Contains("datasync resync public.narrow", await FailedDetailAsync(local, "narrow"));
        Assert.Contains("SQLSTATE 22001", await FailedDetailAsync(local, "narrow"));
        // The narrow table kept nothing of the change it could not take.
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM narrow WHERE id = 301"));
        var status = await CliRunner.RunAsync(config, "status");
        Assert.Contains("errors: 3\n", status.Out);
        await daemon.StopAsync();
    }

    private static Task<string> FailedDetailAsync(LocalCluster local, string table) =>
        local.QueryScalarAsync<string>($"SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED' AND table_name = 'public.{table}'");

    private static async Task AssertFailedAsync(LocalCluster local, string table, string cause)
    {
        Assert.Equal("paused", await local.QueryScalarAsync<string>($"SELECT state FROM datasync_table_state WHERE table_name = 'public.{table}'"));
        var detail = await FailedDetailAsync(local, table);
        Assert.Matches($@"^\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d UTC; table public\.{table}; archive file [0-9A-F]{{24}}; LSN [0-9A-F]+/[0-9A-F]+: ", detail);
        Assert.Contains(cause, detail);
    }
}
