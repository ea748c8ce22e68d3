using System.Diagnostics;
using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using Xunit.Abstractions;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Acceptance through the daemon: tables linked by foreign keys with ON DELETE CASCADE and carrying
/// triggers stay identical whatever order their appliers run in; no trigger fires locally; a TRUNCATE
/// of two linked tables in one statement is followed. Also what <c>status</c> prints before, during and
/// after a run that did work, and that <c>stop</c> of a busy daemon returns within seconds.
/// </summary>
public sealed class DaemonForeignKeyTests(ITestOutputHelper output)
{
    private static readonly Table[] Tables =
    [
        new("parents", "id"), new("children", "id"), new("grandchildren", "id"), new("audit", "id"),
    ];

    [Fact]
    public async Task Linked_tables_with_cascades_and_triggers_stay_identical_and_status_counts_the_work()
    {
        await using var production = await ProductionCluster.StartAsync("accept-fk");
        await using var local = await LocalCluster.StartAsync("accept-fk");
        await production.ExecuteAsync(FamilyWorkload.Ddl + FamilyWorkload.Setup);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(FamilyWorkload.Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        var added = await CliRunner.RunAsync(config, "add-tables", string.Join(", ", Tables.Select(t => t.Name)));
        Assert.True(added.ExitCode == 0, added.Error + added.Out);

        var before = await CliRunner.RunAsync(config, "status");
        Assert.Equal(0, before.ExitCode);
        Assert.StartsWith("status: not-started\nsync frequency: 1\nstart time: \nrecords synced: 0\nerrors: 0\n", before.Out);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(90));
        var bootstrapAudit = await production.QueryScalarAsync<long>("SELECT max(id) FROM audit");

        // Three sessions change families side by side; then children and grandchildren are truncated in one
        // statement; then the sessions go on.
        var clock = Stopwatch.StartNew();
        var connections = new List<Npgsql.NpgsqlConnection>();
        for (var session = 0; session < 3; session++) connections.Add(await production.Server.OpenAsync(ProductionCluster.Database));
        try
        {
            var workloads = connections.Select((c, s) => new FamilyWorkload(c, s, 7000 + s)).ToList();
            await Task.WhenAll(workloads.Select(w => Task.Run(() => w.RunAsync(150))));
            await production.SwitchSegmentAndWaitArchivedAsync();
            await production.ExecuteAsync("TRUNCATE grandchildren, children");
            await Task.WhenAll(workloads.Select(w => Task.Run(() => w.RunAsync(100))));
        }
        finally
        {
            foreach (var connection in connections) await connection.DisposeAsync();
        }

        await production.SwitchSegmentAndWaitArchivedAsync();
        output.WriteLine($"workload in {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(await production.QueryScalarAsync<long>("SELECT count(*) FROM audit WHERE op = 'DELETE' AND table_name = 'grandchildren'") > 0,
            "no delete cascaded down to grandchildren");
        Assert.Equal(1L, await production.QueryScalarAsync<long>("SELECT count(*) FROM audit WHERE op = 'TRUNCATE'"));

        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
        output.WriteLine($"identical after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        // Locally no trigger fired: the unsynced audit table is as empty as it began (production's holds every change).
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM audit_unsynced"));
        Assert.True(await production.QueryScalarAsync<long>("SELECT count(*) FROM audit_unsynced") > 0);

        // Production's audit rows count its row changes, cascaded ones included: the daemon logged each once.
        long total = 0;
        foreach (var table in new[] { "parents", "children", "grandchildren" })
        {
            var changed = await production.QueryScalarAsync<long>(
                $"SELECT count(*) FROM audit WHERE id > {bootstrapAudit} AND table_name = '{table}' AND op <> 'TRUNCATE'");
            Assert.Equal(changed, await RowsSyncedAsync(local, table));
            total += changed;
        }

        var audited = await production.QueryScalarAsync<long>($"SELECT count(*) FROM audit WHERE id > {bootstrapAudit}");
        Assert.Equal(audited, await RowsSyncedAsync(local, "audit"));
        total += audited;
        output.WriteLine($"{total} row changes synced");

        var lines = await daemon.StatusOnceSyncedAsync(total);
        Assert.Equal("status: active", lines[0]);
        Assert.Equal("sync frequency: 1", lines[1]);
        Assert.Matches(@"^start time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", lines[2]);
        Assert.Equal("errors: 0", lines[4]);

        var took = await daemon.StopAsync();
        Assert.True(took < TimeSpan.FromSeconds(20), $"stop took {took}");

        var after = await CliRunner.RunAsync(config, "status");
        Assert.Equal(0, after.ExitCode);
        Assert.StartsWith("status: not-started\nsync frequency: 1\nstart time: \nrecords synced: 0\nerrors: 0\nuptime: \n", after.Out);
        Assert.Matches(@"last successful sync: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$", after.Out);
    }
}
