using DataSync.Core.Tests.Cli;
using DataSync.Embedded;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// The checkpoint journal starts late (at the stream's first quiet moment, so its set-up does not slow the start's
/// catch-up), yet it holds each table's checkpoint as the database has it once the stream has committed a batch of the
/// table, and follows it afterwards.
/// </summary>
public sealed class DaemonJournalTests
{
    private static readonly Table[] Tables = [new("ledger", "id")];

    [Fact]
    public async Task The_journal_started_late_holds_the_newest_checkpoint_and_follows_the_next_ones()
    {
        await using var production = await ProductionCluster.StartAsync("journal", shape: new ProductionShape { WalSegmentSizeMb = 1, Superuser = "keeper", Database = "books" });
        await using var local = await LocalCluster.StartAsync("journal");
        const string ddl = "CREATE TABLE ledger (id int PRIMARY KEY, amount numeric);";
        await production.ExecuteAsync(ddl + "INSERT INTO ledger SELECT g, g * 1.5 FROM generate_series(1, 200) g;");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.ExecuteAsync("UPDATE ledger SET amount = amount + 1 WHERE id <= 50; INSERT INTO ledger VALUES (1000, 0);");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "ledger")).ExitCode);

        await using var daemon = await DaemonRun.StartAsync(config, local);
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));

        // A bootstrap's checkpoint is not journaled; the batches the stream commits after it are.
        await production.ExecuteAsync("INSERT INTO ledger VALUES (2000, 2);");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
        await WaitJournaledAsync(local, daemon);

        await production.ExecuteAsync("DELETE FROM ledger WHERE id > 150; UPDATE ledger SET amount = 0 WHERE id = 1;");
        await production.SwitchSegmentAndWaitArchivedAsync();
        await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(120));
        await WaitJournaledAsync(local, daemon);
    }

    /// <summary>Waits until the newest journal entry of the table names the checkpoint the database holds for it.</summary>
    private static async Task WaitJournaledAsync(LocalCluster local, DaemonRun daemon)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string checkpoint = "", journaled = "";
        while (DateTime.UtcNow < deadline)
        {
            checkpoint = await local.QueryScalarAsync<string>("SELECT checkpoint_lsn::text FROM datasync_table_state WHERE table_name = 'public.ledger'");
            // The journal's tables are made at its first use.
            if (!await local.QueryScalarAsync<bool>("SELECT to_regclass('datasync_journal') IS NOT NULL"))
            {
                await Task.Delay(250); // Polling, bounded by the deadline above.
                continue;
            }

            journaled = await local.QueryScalarAsync<string>("""
                SELECT coalesce((SELECT convert_from(message, 'UTF8')::json->>'CheckpointLsn' FROM datasync_journal
                                 WHERE persistence_id = 'datasync-table-checkpoint/public.ledger' ORDER BY sequence_number DESC LIMIT 1), '')
                """);
            if (journaled == checkpoint) return;
            await Task.Delay(250); // Polling the daemon's journal, bounded by the deadline above.
        }

        var tables = await local.QueryScalarAsync<string>("SELECT string_agg(n.nspname || '.' || c.relname || '=' || c.reltuples, ', ') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname LIKE '%journal%' AND c.relkind = 'r'");
        var entries = await local.QueryScalarAsync<string>("SELECT coalesce(string_agg(persistence_id || ' ' || sequence_number || ' ' || convert_from(message, 'UTF8'), '; '), 'none') FROM datasync_journal");
        Assert.Fail($"the journal's newest checkpoint is '{journaled}', the database's {checkpoint}; journal entries: {entries}; tables {tables}\n{daemon.LogTail()}");
    }
}
