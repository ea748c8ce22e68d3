using DataSync.Core.Tests.Cli;
using DataSync.Embedded;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Upstream schema changes followed through the daemon (#17 item 2, SCHEMA_CHANGES = "follow", the default): columns
/// added (without a default, with a constant default of several types, with a volatile default or as a serial, which
/// make production rewrite the table), renamed, dropped, and types widened (with and without a rewrite), each
/// run between inserts, updates and deletes in the same transaction and in later ones. Afterwards the local table
/// has production's columns (names, types, order) and production's rows (md5 in key order), rows written before an
/// ALTER and updated after it included; a daemon killed after the ALTERs were applied resumes with the new columns.
/// A change that is not followed (text to int) pauses its table alone, with what changed and what to do.
/// </summary>
public sealed class DaemonSchemaFollowTests
{
    private const string Ddl = """
        CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, code varchar(10), amount numeric(8,2), legacy text, note text);
        CREATE TABLE counters (id int PRIMARY KEY, small smallint, n int);
        CREATE TABLE notes (id int PRIMARY KEY, body text);
        """;

    private static readonly Table Accounts = new("accounts", "id");
    private static readonly Table Counters = new("counters", "id");
    private static readonly Table Notes = new("notes", "id");

    [Fact]
    public async Task Added_renamed_dropped_and_widened_columns_are_applied_in_commit_order_and_survive_a_kill()
    {
        await using var production = await ProductionCluster.StartAsync("schema-follow");
        await using var local = await LocalCluster.StartAsync("schema-follow");
        await production.ExecuteAsync(Ddl + """
            INSERT INTO accounts SELECT g, 'a' || g, 'c' || g, g * 1.25, 'old' || g, NULL FROM generate_series(1, 400) g;
            INSERT INTO counters SELECT g, g, g * 10 FROM generate_series(1, 200) g;
            INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 50) g;
            """);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync(Ddl);
        var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "accounts counters notes")).ExitCode);

        var daemon = await DaemonRun.StartAsync(config, local);
        try
        {
            await WaitIdenticalAsync(production, local, [Accounts, Counters, Notes], daemon, TimeSpan.FromSeconds(180));

            // In one transaction: rows before the ALTER (old shape), the ALTER, rows after it (new shape), old rows updated.
            await production.ExecuteAsync("""
                BEGIN;
                INSERT INTO accounts VALUES (401, 'before', 'b', 1, 'x', 'n');
                UPDATE accounts SET note = 'touched before' WHERE id <= 10;
                DELETE FROM accounts WHERE id = 20;
                ALTER TABLE accounts ADD COLUMN plain int;
                INSERT INTO accounts VALUES (402, 'after', 'a', 2, 'y', 'n', 7);
                UPDATE accounts SET plain = id * 3 WHERE id BETWEEN 5 AND 15;
                DELETE FROM accounts WHERE id = 21;
                COMMIT;
                """);
            // Constant defaults: the rows already there take them (attmissingval); old rows updated in later transactions.
            await production.ExecuteAsync("ALTER TABLE accounts ADD COLUMN dflt int NOT NULL DEFAULT 42");
            await production.ExecuteAsync("UPDATE accounts SET name = name || '!' WHERE id % 7 = 0; INSERT INTO accounts (id, name, plain) VALUES (403, 'later', 1)");
            await production.ExecuteAsync("""
                ALTER TABLE accounts ADD COLUMN label text DEFAULT 'tag''d \ "quoted"', ADD COLUMN at timestamptz DEFAULT '2026-01-02 03:04:05.678+00',
                    ADD COLUMN ratio numeric(6,3) DEFAULT 3.142, ADD COLUMN flags jsonb DEFAULT '{"k": [1, 2]}';
                UPDATE accounts SET dflt = dflt + id WHERE id % 5 = 0;
                DELETE FROM accounts WHERE id % 50 = 0;
                """);
            await production.SwitchSegmentAndWaitArchivedAsync();
            await WaitIdenticalAsync(production, local, [Accounts], daemon, TimeSpan.FromSeconds(120));
            await AssertSameColumnsAsync(production, local, "accounts");

            // Renamed (also two columns trading names), dropped, widened, each between row changes.
            await production.ExecuteAsync("""
                BEGIN;
                UPDATE accounts SET amount = amount + 1 WHERE id % 3 = 0;
                ALTER TABLE accounts RENAME COLUMN name TO full_name;
                INSERT INTO accounts (id, full_name, code) VALUES (404, 'renamed', 'r');
                UPDATE accounts SET full_name = full_name || '?' WHERE id % 11 = 0;
                COMMIT;
                """);
            await production.ExecuteAsync("ALTER TABLE accounts RENAME COLUMN code TO note2; ALTER TABLE accounts RENAME COLUMN note TO code; ALTER TABLE accounts RENAME COLUMN note2 TO note");
            await production.ExecuteAsync("UPDATE accounts SET code = 'swapped' WHERE id % 13 = 0");
            await production.ExecuteAsync("""
                BEGIN;
                DELETE FROM accounts WHERE id % 17 = 0;
                ALTER TABLE accounts DROP COLUMN legacy;
                UPDATE accounts SET plain = coalesce(plain, 0) + 1 WHERE id % 4 = 0;
                INSERT INTO accounts (id, full_name) VALUES (405, 'no legacy');
                COMMIT;
                """);
            await production.ExecuteAsync("ALTER TABLE accounts ALTER COLUMN note TYPE varchar(40)");
            await production.ExecuteAsync("INSERT INTO accounts (id, full_name, note) VALUES (406, 'wide', 'a code much longer than the ten it had')");
            await production.ExecuteAsync("ALTER TABLE accounts ALTER COLUMN amount TYPE numeric(12,2); UPDATE accounts SET amount = 1234567890.12 WHERE id = 1");
            await production.ExecuteAsync("ALTER TABLE accounts ALTER COLUMN note TYPE text; UPDATE accounts SET note = repeat('long ', 30) WHERE id = 2");
            // A table of fixed-width columns only: widening rewrites it into a new file, which is followed.
            await production.ExecuteAsync("""
                BEGIN;
                UPDATE counters SET n = n + 1 WHERE id % 2 = 0;
                ALTER TABLE counters ALTER COLUMN small TYPE int, ALTER COLUMN n TYPE bigint;
                UPDATE counters SET n = n * 1000000000, small = small * 100000 WHERE id % 3 = 0;
                INSERT INTO counters VALUES (201, 2000000000, 9000000000000);
                COMMIT;
                """);
            // A value per row (volatile defaults, a serial): production rewrites the table, and the rewritten rows replace the local ones.
            await production.ExecuteAsync("""
                BEGIN;
                UPDATE accounts SET plain = 1 WHERE id = 6;
                ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();
                UPDATE accounts SET token = NULL WHERE id = 7;
                INSERT INTO accounts (id, full_name) VALUES (408, 'volatile');
                COMMIT;
                """);
            await production.ExecuteAsync("ALTER TABLE counters ADD COLUMN seq serial, ADD COLUMN r float8 DEFAULT random()");
            await production.ExecuteAsync("UPDATE counters SET r = 0 WHERE id % 4 = 0; DELETE FROM counters WHERE id = 100");
            await production.SwitchSegmentAndWaitArchivedAsync();
            await WaitIdenticalAsync(production, local, [Accounts, Counters, Notes], daemon, TimeSpan.FromSeconds(120));
            await AssertSameColumnsAsync(production, local, "accounts");
            await AssertSameColumnsAsync(production, local, "counters");
            Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));

            // Killed (kill -9) once the ALTERs are applied: the checkpoints and the followed columns come back.
            if (Processes.IsRunning(daemon.Pid)) System.Diagnostics.Process.GetProcessById(daemon.Pid).Kill();
            await production.ExecuteAsync("""
                UPDATE accounts SET label = 'after the kill', flags = '[9]' WHERE id % 9 = 0;
                INSERT INTO accounts (id, full_name, plain, dflt) VALUES (407, 'after the kill', 1, 1);
                UPDATE counters SET n = -n WHERE id % 5 = 0;
                ALTER TABLE accounts ADD COLUMN after_kill bool DEFAULT true;
                UPDATE accounts SET after_kill = false WHERE id % 10 = 1;
                """);
            await production.SwitchSegmentAndWaitArchivedAsync();
            daemon = await DaemonRun.StartAsync(config, local);
            await WaitIdenticalAsync(production, local, [Accounts, Counters, Notes], daemon, TimeSpan.FromSeconds(180));
            await AssertSameColumnsAsync(production, local, "accounts");
            Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));

            // Not a widening: the table pauses with what changed and what to do; the others go on.
            await production.ExecuteAsync("ALTER TABLE notes ALTER COLUMN body TYPE int USING length(body)");
            await production.ExecuteAsync("INSERT INTO notes VALUES (51, 5); UPDATE accounts SET plain = -1 WHERE id = 3");
            await production.SwitchSegmentAndWaitArchivedAsync();
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.notes'") != "paused")
            {
                Assert.True(DateTime.UtcNow < deadline, "notes did not pause" + daemon.LogTail());
                await Task.Delay(500);
            }

            await WaitIdenticalAsync(production, local, [Accounts, Counters], daemon, TimeSpan.FromSeconds(60));
            var detail = await local.QueryScalarAsync<string>("SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED' AND table_name = 'public.notes'");
            Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; table public\.notes; archive file [0-9A-F]{24}; LSN [0-9A-F]+/[0-9A-F]+: ", detail);
            Assert.Contains("production changed the table's definition (column \"body\" changed type from text to int4, which is not a widening the sync follows", detail);
            Assert.EndsWith("apply the same DDL to the local table, then run: datasync resync public.notes", detail);
            Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
            await daemon.StopAsync();
        }
        finally
        {
            await daemon.DisposeAsync();
        }
    }

    /// <summary>The table's live columns, names and types in order, are production's.</summary>
    private static async Task AssertSameColumnsAsync(EmbeddedProduction production, LocalCluster local, string table)
    {
        var sql = "SELECT string_agg(quote_ident(attname) || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum) FROM pg_attribute " +
                  $"WHERE attrelid = 'public.{table}'::regclass AND attnum > 0 AND NOT attisdropped";
        Assert.Equal(await production.QueryScalarAsync<string>(sql), await local.QueryScalarAsync<string>(sql));
    }
}
