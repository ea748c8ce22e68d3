using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using DataSync.TestRig.Workloads;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Acceptance through the daemon for the isn types (<see cref="IsnTable"/>), whose values binary COPY cannot carry:
/// bootstrapped, then updated (isn values changed, left unchanged beside a changed column, set to NULL, entered with a
/// wrong check digit), copied, re-keyed and deleted on production, with an isn primary key moved, deleted and taken again,
/// the local tables stay identical (md5 of ordered rows, and of the same rows with every isn value cast to ean13, whose
/// text is exact where issn's and upc's own is not) and no FAILED row is logged.
/// </summary>
public sealed class DaemonIsnTests
{
    private static readonly Table[] Tables =
    [
        new(IsnTable.Name, "id"), new(IsnTable.KeyedName, "code"),
        new("isn_values_exact", "id"), new("isn_keyed_exact", "code"),
    ];

    private const string Columns = "e, b13, m13, s13, b, m, s, u, d, a, ad, ae, note, late";

    [Fact]
    public async Task Isn_types_stay_identical_through_the_daemon()
    {
        await using var production = await ProductionCluster.StartAsync("accept-isn");
        await using var local = await LocalCluster.StartAsync("accept-isn");
        await production.ExecuteAsync(IsnTable.Ddl + IsnTable.Data + IsnTable.ExactView);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Tar);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(IsnTable.Ddl + IsnTable.Alter + IsnTable.ExactView);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        var added = await CliRunner.RunAsync(config, "add-tables", IsnTable.Name, IsnTable.KeyedName);
        Assert.True(added.ExitCode == 0, added.Error + added.Out);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(90));
        Assert.Equal(7L, await local.QueryScalarAsync<long>("SELECT count(*) FROM isn_values"));

        // Unchanged isn values beside a changed column.
        await production.ExecuteAsync("UPDATE isn_values SET note = 'touched' WHERE id IN (2, 3)");
        // Changed: issue digits and flags that only the exact text shows, NULLs, a longer array, the added column.
        await production.ExecuteAsync("UPDATE isn_values SET s = '9779999999992', s13 = '9771234567003!', u = NULL, e = '0000000000000!', " +
                                      "a = a || ARRAY[ARRAY['9780000000002'::isbn13]], ad = NULL, late = '9799999999990' WHERE id = 4");
        await production.ExecuteAsync("SET isn.weak TO true; UPDATE isn_values SET b = '1234567890', d = '9791234567890', u = '0123456789010' WHERE id = 2");
        // Copies of every row, those stored before the column was added included; then re-keyed and deleted rows.
        await production.ExecuteAsync($"INSERT INTO isn_values (id, {Columns}) SELECT id + 100, {Columns} FROM isn_values");
        await production.ExecuteAsync("UPDATE isn_values SET id = id + 500 WHERE id IN (1, 104)");
        await production.ExecuteAsync("DELETE FROM isn_values WHERE id IN (5, 106)");
        // The isn key: a new one, one moved, a non-key change of a flagged key, one deleted, one deleted and taken again.
        await production.ExecuteAsync("INSERT INTO isn_keyed VALUES ('9780000000002', 'new', '9779999999992')");
        await production.ExecuteAsync("UPDATE isn_keyed SET code = '9799999999990' WHERE code = '9780393040029'");
        await production.ExecuteAsync("UPDATE isn_keyed SET title = 'renamed', serial = '9771234567003!' WHERE code = '9780123456786!'");
        await production.ExecuteAsync("DELETE FROM isn_keyed WHERE code = '9791234567896'");
        await production.ExecuteAsync("BEGIN; DELETE FROM isn_keyed WHERE code = '9780000000002'; INSERT INTO isn_keyed VALUES ('9780000000002', 'again', NULL); COMMIT");
        await production.SwitchSegmentAndWaitArchivedAsync();

        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(90));
        Assert.Equal(12L, await production.QueryScalarAsync<long>("SELECT count(*) FROM isn_values"));
        Assert.Equal(3L, await production.QueryScalarAsync<long>("SELECT count(*) FROM isn_keyed"));
        // The flags and issue digits really are there to be lost.
        Assert.Equal("9779999999992", await local.QueryScalarAsync<string>("SELECT replace(s::ean13::text, '-', '') FROM isn_values WHERE id = 604"));
        Assert.Equal("0123456789012!", await local.QueryScalarAsync<string>("SELECT replace(u::ean13::text, '-', '') FROM isn_values WHERE id = 2"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
        // Every row change was applied as a row change: 2 + 1 + 1 updates, 7 copies, 2 re-keyed, 2 deleted; 1 + 1 + 1 + 1 + 2 on the keyed table.
        Assert.Equal(15L, await RowsSyncedAsync(local, IsnTable.Name));
        Assert.Equal(6L, await RowsSyncedAsync(local, IsnTable.KeyedName));
        await daemon.StopAsync();
    }
}
