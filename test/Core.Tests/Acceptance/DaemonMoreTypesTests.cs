using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using DataSync.TestRig.Workloads;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Acceptance through the daemon for composite and extension types (<see cref="MoreTypesTable"/>): bootstrapped, then
/// inserted, copied, updated (TOASTed composites, hstores and arrays changed, and left unchanged beside a changed
/// column), re-keyed and deleted on production, the local table stays identical (md5 of ordered rows) and no FAILED
/// row is logged.
/// </summary>
public sealed class DaemonMoreTypesTests
{
    private static readonly Table[] Tables = [new(MoreTypesTable.Name, "id")];

    private const string Columns = "c_pair, c_wide, c_nest, c_domain_pair, c_row, a_pair, a_nest, a_domain_pair, c_citext, a_citext, c_email, " +
                                   "c_hstore, a_hstore, c_ltree, a_ltree, c_cube, a_cube, c_jsonpath, a_jsonpath, c_lquery, a_lquery, c_ltxtquery";

    [Fact]
    public async Task Composite_and_extension_types_stay_identical_through_the_daemon()
    {
        await using var production = await ProductionCluster.StartAsync("accept-more-types");
        await using var local = await LocalCluster.StartAsync("accept-more-types");
        await production.ExecuteAsync(MoreTypesTable.Ddl + MoreTypesTable.Data);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(MoreTypesTable.Ddl + MoreTypesTable.Alter);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        var added = await CliRunner.RunAsync(config, "add-tables", MoreTypesTable.Name);
        Assert.True(added.ExitCode == 0, added.Error + added.Out);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(90));

        // Unchanged TOAST: row 5's composites, hstore, ltree and arrays stay behind while another column changes.
        await production.ExecuteAsync("UPDATE more_types SET c_citext = 'changed' WHERE id IN (2, 5)");
        // Changed TOAST: a TOASTed hstore and array of composites, then a TOASTed composite holding a TOASTed-size field.
        await production.ExecuteAsync("UPDATE more_types SET c_hstore = c_hstore || 'changed=>yes'::hstore, " +
                                      "a_pair = a_pair || ROW(9999, 'added', '2000-01-01')::pair, c_jsonpath = (c_jsonpath::text || '.last')::jsonpath WHERE id = 5");
        await production.ExecuteAsync("UPDATE more_types SET c_nest = ROW((c_nest).p, 2, (c_nest).arr || 1, NULL, 'x', NULL, NULL, NULL, NULL, NULL)::nest " +
                                      "WHERE id IN (2, 5)");
        // Copies keep the stored composites as they are, those written before the types changed included.
        await production.ExecuteAsync($"INSERT INTO more_types (id, {Columns}) SELECT id + 1000, {Columns} FROM more_types WHERE id < 1000");
        await production.ExecuteAsync("UPDATE more_types SET id = id + 500 WHERE id IN (4, 1005)");
        await production.ExecuteAsync("DELETE FROM more_types WHERE id IN (3, 1006)");
        await production.ExecuteAsync($"UPDATE more_types t SET ({Columns}) = (SELECT {Columns} FROM more_types WHERE id = 1) WHERE t.id = 1100");
        await production.ExecuteAsync("UPDATE more_types SET c_ltree = c_ltree || 'more'::ltree, c_cube = cube_enlarge(c_cube, 1, 3) WHERE id IN (2, 1002)");
        await production.SwitchSegmentAndWaitArchivedAsync();

        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(90));
        Assert.Equal(14L, await production.QueryScalarAsync<long>("SELECT count(*) FROM more_types"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        // Every row change was applied as a row change: 2 + 1 + 2 updates, 8 copies, 2 re-keyed, 2 deleted, 1 + 2 updates.
        Assert.Equal(20L, await RowsSyncedAsync(local, MoreTypesTable.Name));
        await daemon.StopAsync();
    }
}
