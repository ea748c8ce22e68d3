using System.Diagnostics;
using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using DataSync.TestRig.Workloads;
using Xunit.Abstractions;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Acceptance through the daemon: tables covering every supported type stay identical to production
/// (md5 of ordered rows) while production writes every kind of change, and every table's logged
/// count of applied row changes equals what production committed.
/// </summary>
public sealed class DaemonEveryTypeTests(ITestOutputHelper output)
{
    private static readonly Table[] Tables =
    [
        new(EveryTypeTable.Name, "id"), new("items", "id"), new("events", "id"), new("pairs", "a, b"),
    ];

    /// <param name="concurrent">
    /// False: the every-type script (its own session and the one beside it for VACUUM FULL and CLUSTER), then one
    /// random session. True: the script and two random sessions all at once, so that batches close while other
    /// sessions' transactions are open (see DaemonResumeTests for the two ways that went wrong).
    /// </param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_type_and_every_kind_of_change_stay_identical_through_the_daemon(bool concurrent)
    {
        await using var production = await ProductionCluster.StartAsync("accept-every-type");
        await using var local = await LocalCluster.StartAsync("accept-every-type");
        await production.ExecuteAsync(EveryTypeWorkload.Ddl + RandomWorkload.Ddl + RandomWorkload.Setup);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(EveryTypeWorkload.Ddl + RandomWorkload.Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        var added = await CliRunner.RunAsync(config, "add-tables", string.Join(", ", Tables.Select(t => t.Name)));
        Assert.True(added.ExitCode == 0, added.Error + added.Out);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        var clock = Stopwatch.StartNew();
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(90));
        await WaitSyncingAsync(local, daemon);
        output.WriteLine($"bootstrapped in {clock.Elapsed.TotalSeconds:F1} s");

        // Production writes while the daemon runs: the scripted every-type workload and random sessions.
        clock.Restart();
        await using var everyTypeConnection = await production.Server.OpenAsync(ProductionCluster.Database);
        await using var maintenanceConnection = await production.Server.OpenAsync(ProductionCluster.Database);
        var everyType = new EveryTypeWorkload(everyTypeConnection, maintenanceConnection);
        var randoms = new List<RandomWorkload>();
        var runs = new List<Task> { Task.Run(everyType.RunAsync) };
        if (!concurrent) await runs[0];
        for (var session = 0; session < (concurrent ? 2 : 1); session++)
        {
            var connection = await production.Server.OpenAsync(ProductionCluster.Database);
            var workload = new RandomWorkload(connection, session, 20261125 + session);
            randoms.Add(workload);
            var s = session;
            Func<int, Task> extra = i => (s, i) switch
            {
                (0, 40) => workload.StatementAsync("VACUUM FULL pairs"),
                (0, 60) => workload.StatementAsync("CLUSTER events USING events_pkey"),
                (0, 70) => workload.StatementAsync("TRUNCATE pairs"),
                _ => Task.CompletedTask,
            };
            runs.Add(Task.Run(async () =>
            {
                await using (connection) await workload.RunAsync(concurrent ? 100 : 150, extra);
            }));
        }

        await Task.WhenAll(runs);
        await production.SwitchSegmentAndWaitArchivedAsync();
        output.WriteLine($"workload: {randoms.Sum(r => r.Transactions)} random transactions and the every-type script in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"big transaction {everyType.BigTransactionWalBytes / 1024 / 1024} MiB of WAL");

        // The workload did what it claims: a transaction over a segment, HOT and non-HOT updates, TOAST stored every way.
        Assert.True(everyType.BigTransactionWalBytes > 16L * 1024 * 1024, $"the big transaction wrote only {everyType.BigTransactionWalBytes} bytes of WAL");
        await AssertExercisedAsync(production);

        clock.Restart();
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(150));
        output.WriteLine($"caught up in {clock.Elapsed.TotalSeconds:F1} s");

        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        var expected = ChangeTally.Sum(randoms.Select(r => r.Tally).Append(everyType.Tally));
        foreach (var table in Tables)
        {
            var synced = await RowsSyncedAsync(local, table.Name);
            output.WriteLine($"{table.Name}: production committed {expected.GetValueOrDefault(table.Name)} row changes, the daemon logged {synced}");
            Assert.True(expected.GetValueOrDefault(table.Name) == synced,
                $"{table.Name}: production committed {expected.GetValueOrDefault(table.Name)} row changes, data_sync_logs counts {synced}");
        }

        // status while running counts what this daemon applied (the bootstrap copies are not row changes).
        var lines = await daemon.StatusOnceSyncedAsync(expected.Values.Sum());
        Assert.Equal("status: active", lines[0]);
        Assert.Equal("sync frequency: 1", lines[1]);
        Assert.Equal("errors: 0", lines[4]);

        var took = await daemon.StopAsync();
        Assert.True(took < TimeSpan.FromSeconds(20), $"stop took {took}");
    }

    /// <summary>Production's own statistics and storage show the updates were HOT and not, and TOAST was used every way.</summary>
    private static async Task AssertExercisedAsync(ProductionCluster production)
    {
        await using var connection = await production.Server.OpenAsync(ProductionCluster.Database);
        async Task<T> Scalar<T>(string sql)
        {
            await using var command = new Npgsql.NpgsqlCommand(sql, connection);
            return (T)(await command.ExecuteScalarAsync())!;
        }

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            // Backends report their statistics a moment after their transactions end (each query here reads afresh).
            var hot = await Scalar<long>("SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'all_types'");
            var all = await Scalar<long>("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'all_types'");
            if (hot > 0 && all > hot) break;
            Assert.True(DateTime.UtcNow < deadline, $"all_types: {hot} HOT of {all} updates; the workload needs both kinds");
            await Task.Delay(500);
        }

        Assert.Equal((true, true), await StorageAsync("c_text", 9));      // external, compressed
        Assert.Equal((true, false), await StorageAsync("c_bytea", 6));    // external, not compressed
        Assert.Equal((false, true), await StorageAsync("c_text", 8));     // inline, compressed

        async Task<(bool External, bool Compressed)> StorageAsync(string column, int id)
        {
            var sql = $"SELECT pg_column_toast_chunk_id({column}) IS NOT NULL, pg_column_compression({column}) IS NOT NULL FROM all_types WHERE id = {id}";
            await using var command = new Npgsql.NpgsqlCommand(sql, connection);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), sql);
            return (reader.GetBoolean(0), reader.GetBoolean(1));
        }
    }

    private static async Task WaitSyncingAsync(LocalCluster local, DaemonRun daemon)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (await local.QueryScalarAsync<long>("SELECT count(*) FROM datasync_table_state WHERE state = 'syncing'") < Tables.Length)
        {
            Assert.True(DateTime.UtcNow < deadline, "the tables did not reach state syncing" + daemon.LogTail());
            await Task.Delay(250);
        }
    }
}
