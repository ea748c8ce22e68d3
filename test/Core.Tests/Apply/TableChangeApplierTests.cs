using DataSync.Core.Apply;
using DataSync.Core.Bootstrap;
using DataSync.Core.Configuration;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Tests.Apply;

/// <summary>Real WAL, decoded, applied set-based to a local copy: the copy must equal production row for row.</summary>
public sealed class TableChangeApplierTests
{
    private const string Ddl = """
        CREATE TABLE acct (id int PRIMARY KEY, name text NOT NULL, doc text, n int);
        CREATE TABLE pair (a int, b text, v numeric, PRIMARY KEY (a, b));
        """;

    private const string Initial = """
        INSERT INTO acct SELECT g, 'name ' || g, CASE WHEN g % 4 = 0 THEN (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 200) i) END, g FROM generate_series(1, 400) g;
        INSERT INTO pair SELECT g, 'b' || g, g * 1.5 FROM generate_series(1, 100) g;
        """;

    private const string Workload = """
        INSERT INTO acct SELECT g, 'new ' || g, NULL, g FROM generate_series(401, 600) g;
        UPDATE acct SET n = n + 1000 WHERE id % 4 = 0;                      -- TOASTed doc left untouched
        UPDATE acct SET doc = 'short now' WHERE id % 8 = 0;                -- TOASTed doc replaced
        UPDATE acct SET id = id + 10000 WHERE id % 12 = 0;                 -- key change, doc untouched
        DELETE FROM acct WHERE id % 5 = 0;
        BEGIN; INSERT INTO acct VALUES (700, 'x', NULL, 1); UPDATE acct SET n = 2 WHERE id = 700; DELETE FROM acct WHERE id = 700; COMMIT;
        BEGIN; DELETE FROM acct WHERE id = 1; INSERT INTO acct VALUES (1, 'reborn', 'r', 1); COMMIT;
        BEGIN; UPDATE acct SET id = 800 WHERE id = 2; UPDATE acct SET name = 'moved' WHERE id = 800; COMMIT;
        INSERT INTO acct VALUES (900, 'toasted', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i), 1);
        UPDATE acct SET n = 5 WHERE id = 900;                               -- the round's own insert fills the untouched TOAST value
        UPDATE pair SET v = v * 2 WHERE a % 2 = 0;
        UPDATE pair SET b = b || '-renamed' WHERE a % 3 = 0;
        DELETE FROM pair WHERE a % 7 = 0;
        """;

    private const string AcctChecksum = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM acct t";
    private const string PairChecksum = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY a, b), '')) FROM pair t";

    [Theory]
    [InlineData(20_000)]
    [InlineData(7)]
    public async Task Decoded_changes_applied_set_based_give_production_tables(int roundSize)
    {
        await using var setup = await Setup.StartAsync($"apply-{roundSize}");
        await setup.Production.ExecuteAsync(Workload);
        var transactions = await setup.DecodeAsync();

        await using var connection = await setup.Local.Server.OpenAsync(LocalCluster.Database);
        await using var transaction = await connection.BeginTransactionAsync();
        var totals = new Dictionary<string, ApplyCounts>();
        foreach (var table in new[] { "acct", "pair" })
        {
            var applier = new TableChangeApplier(new TableName("public", table), OnConflict.Fail, roundSize);
            var changes = transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.Name == table);
            totals[table] = await applier.ApplyAsync(connection, changes, CancellationToken.None);
        }

        await transaction.CommitAsync();
        Assert.Equal(await setup.Production.QueryScalarAsync<string>(AcctChecksum), await setup.Local.QueryScalarAsync<string>(AcctChecksum));
        Assert.Equal(await setup.Production.QueryScalarAsync<string>(PairChecksum), await setup.Local.QueryScalarAsync<string>(PairChecksum));
        Assert.Equal(203, totals["acct"].Inserted); // 200 new rows, the short-lived 700, the reborn 1, the TOASTed 900
        Assert.Equal(14, totals["pair"].Deleted);
    }

    [Fact]
    public async Task A_local_manual_change_is_a_conflict_naming_table_and_lsn()
    {
        await using var setup = await Setup.StartAsync("apply-conflict");
        await setup.Production.ExecuteAsync("UPDATE acct SET n = -1 WHERE id = 3; DELETE FROM acct WHERE id = 5;");
        var deleteLsn = Lsn.Parse(await setup.Production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
        var transactions = await setup.DecodeAsync();
        await setup.Local.ExecuteAsync("DELETE FROM acct WHERE id = 5"); // someone changed the local copy by hand

        await using var connection = await setup.Local.Server.OpenAsync(LocalCluster.Database);
        await using var transaction = await connection.BeginTransactionAsync();
        var applier = new TableChangeApplier(new TableName("public", "acct"), OnConflict.Fail);
        var error = await Assert.ThrowsAsync<ApplyConflictException>(() =>
            applier.ApplyAsync(connection, transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.Name == "acct"), CancellationToken.None));

        Assert.Equal("public.acct", error.Table);
        Assert.True(error.Lsn.IsValid && error.Lsn < deleteLsn, $"conflict LSN {error.Lsn}");
        Assert.Contains("the row to delete is not in the local table", error.Message);
        Assert.Contains(error.Lsn.ToString(), error.Message);
        await transaction.RollbackAsync();

        // Overwrite goes on: the update applies, the delete of the missing row is skipped.
        await using var second = await connection.BeginTransactionAsync();
        await new TableChangeApplier(new TableName("public", "acct"), OnConflict.Overwrite)
            .ApplyAsync(connection, transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.Name == "acct"), CancellationToken.None);
        await second.CommitAsync();
        Assert.Equal(await setup.Production.QueryScalarAsync<string>(AcctChecksum), await setup.Local.QueryScalarAsync<string>(AcctChecksum));
    }

    [Fact]
    public async Task An_inserted_key_the_local_table_already_has_is_a_conflict_or_an_upsert()
    {
        await using var setup = await Setup.StartAsync("apply-insert-conflict");
        await setup.Production.ExecuteAsync("INSERT INTO acct SELECT g, 'bulk ' || g, NULL, g FROM generate_series(1000, 1999) g");
        var conflictLsn = Lsn.Parse(await setup.Production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
        await setup.Production.ExecuteAsync("INSERT INTO acct VALUES (2000, 'late', NULL, 1)");
        var transactions = await setup.DecodeAsync();
        await setup.Local.ExecuteAsync("INSERT INTO acct VALUES (1500, 'made by hand', NULL, 0)");
        var changes = transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.Name == "acct").ToList();

        await using var connection = await setup.Local.Server.OpenAsync(LocalCluster.Database);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var error = await Assert.ThrowsAsync<ApplyConflictException>(() =>
                new TableChangeApplier(new TableName("public", "acct"), OnConflict.Fail, 300).ApplyAsync(connection, changes, CancellationToken.None));
            Assert.Equal("public.acct", error.Table);
            Assert.True(error.Lsn.IsValid && error.Lsn < conflictLsn, $"conflict LSN {error.Lsn}");
            Assert.Contains("the inserted key is already in the local table (acct_pkey)", error.Message);
            await transaction.RollbackAsync();
        }

        Assert.Equal(400L, await setup.Local.QueryScalarAsync<long>("SELECT count(*) FROM acct WHERE id <> 1500"));

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var counts = await new TableChangeApplier(new TableName("public", "acct"), OnConflict.Overwrite, 300).ApplyAsync(connection, changes, CancellationToken.None);
            await transaction.CommitAsync();
            Assert.Equal(1001, counts.Inserted);
        }

        Assert.Equal(await setup.Production.QueryScalarAsync<string>(AcctChecksum), await setup.Local.QueryScalarAsync<string>(AcctChecksum));
    }

    private const string ShelfDdl = """
        CREATE EXTENSION IF NOT EXISTS isn;
        CREATE TABLE shelf (code isbn13 PRIMARY KEY, alt issn UNIQUE, codes isbn13[], n int GENERATED ALWAYS AS IDENTITY);
        CREATE VIEW shelf_exact AS SELECT code::ean13, alt::ean13, codes::ean13[], n FROM shelf;
        """;

    /// <summary>Three rows, two with an array of isn values large enough to be stored out of line (TOASTed).</summary>
    private const string ShelfInitial = """
        INSERT INTO shelf (code, alt, codes)
        SELECT ('978' || lpad(g::text, 9, '0') || '?')::isbn13, ('977' || lpad(g::text, 7, '0') || '0' || g || '?')::issn,
               CASE WHEN g < 3 THEN (SELECT array_agg(('979' || lpad(((i * 7919 + g) % 1000000000)::text, 9, '1') || '?')::isbn13) FROM generate_series(1, 5000) i) END
        FROM generate_series(1, 3) g;
        """;

    /// <summary>The rows through ean13; the identity number of the row the test makes by hand stays the local one (an upsert
    /// leaves a GENERATED ALWAYS column alone), so it is left out.</summary>
    private const string ShelfChecksum =
        "SELECT md5(string_agg(ROW(code, alt, codes, CASE WHEN code = '9780393040029' THEN 0 ELSE n END)::text, '|' ORDER BY code)) FROM shelf_exact";

    /// <summary>
    /// An isn-keyed table (values carried as text): two rows swap their unique issn one step at a time while their TOASTed
    /// isn arrays stay untouched, which one set-based UPDATE cannot do, so the round is applied as delete and insert with the
    /// untouched arrays taken from the local rows as exact text; a key moved; a new row; a conflicting insert is named or
    /// upserted. The local rows equal production's, compared through ean13 (exact where issn's own text is not).
    /// </summary>
    [Fact]
    public async Task Text_carried_isn_columns_apply_through_every_path()
    {
        await using var setup = await Setup.StartAsync("apply-isn", ShelfDdl, ShelfInitial, ["shelf"]);
        await setup.Production.ExecuteAsync("""
            BEGIN;
            UPDATE shelf SET alt = NULL WHERE code = '9780000000019';
            UPDATE shelf SET alt = '9770000001017' WHERE code = '9780000000026';
            UPDATE shelf SET alt = '9770000002021' WHERE code = '9780000000019';
            COMMIT;
            UPDATE shelf SET code = '9791234567896', alt = '9770000003035!' WHERE code = '9780000000033';
            INSERT INTO shelf (code, alt) VALUES ('9780393040029', '9771234567898');
            """);
        var conflictLsn = Lsn.Parse(await setup.Production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
        var transactions = await setup.DecodeAsync();
        var changes = transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.Name == "shelf").ToList();
        Assert.Contains(changes, c => c.NewRow is { HasUnchangedToast: true });
        await setup.Local.ExecuteAsync("INSERT INTO shelf (code) VALUES ('9780393040029')"); // made by hand: the insert meets it

        await using var connection = await setup.Local.Server.OpenAsync(LocalCluster.Database);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var error = await Assert.ThrowsAsync<ApplyConflictException>(() =>
                new TableChangeApplier(new TableName("public", "shelf"), OnConflict.Fail).ApplyAsync(connection, changes, CancellationToken.None));
            Assert.Contains("the inserted key is already in the local table (shelf_pkey)", error.Message);
            Assert.True(error.Lsn.IsValid && error.Lsn < conflictLsn, $"conflict LSN {error.Lsn}");
            await transaction.RollbackAsync();
        }

        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var counts = await new TableChangeApplier(new TableName("public", "shelf"), OnConflict.Overwrite).ApplyAsync(connection, changes, CancellationToken.None);
            await transaction.CommitAsync();
            Assert.Equal((1, 4), (counts.Inserted, counts.Updated));
        }

        Assert.Equal(await setup.Production.QueryScalarAsync<string>(ShelfChecksum), await setup.Local.QueryScalarAsync<string>(ShelfChecksum));
        Assert.Equal("9770000003035!", await setup.Local.QueryScalarAsync<string>("SELECT replace(alt::ean13::text, '-', '') FROM shelf WHERE code = '9791234567896'"));
    }

    private const string KeyTypesDdl = """
        CREATE DOMAIN code_d AS text CHECK (VALUE <> '');
        CREATE TABLE "we""ird" ("k""ey" bigint PRIMARY KEY, v text);
        CREATE TABLE by_uuid (id uuid PRIMARY KEY, v int);
        CREATE TABLE by_text (id varchar(20) COLLATE "C" PRIMARY KEY, v int);
        CREATE TABLE by_domain (id code_d PRIMARY KEY, v int);
        CREATE TABLE by_numeric (id numeric PRIMARY KEY, v int);
        CREATE TABLE by_time (id timestamptz PRIMARY KEY, v int);
        CREATE TABLE by_array (id int[] PRIMARY KEY, v int);
        CREATE TABLE by_long (id text PRIMARY KEY, v int);
        """;

    private const string KeyTypesInitial = """
        INSERT INTO "we""ird" SELECT g, 'v' || g FROM generate_series(1, 3000) g;
        INSERT INTO by_uuid SELECT md5(g::text)::uuid, g FROM generate_series(1, 3000) g;
        INSERT INTO by_text SELECT 'k-' || g, g FROM generate_series(1, 3000) g;
        INSERT INTO by_domain SELECT 'd' || g, g FROM generate_series(1, 3000) g;
        INSERT INTO by_numeric SELECT g / 4.0, g FROM generate_series(1, 3000) g;
        INSERT INTO by_time SELECT timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute', g FROM generate_series(1, 3000) g;
        INSERT INTO by_array SELECT ARRAY[g, g + 1], g FROM generate_series(1, 3000) g;
        INSERT INTO by_long SELECT repeat(md5(g::text), 40), g FROM generate_series(1, 3000) g;
        """;

    /// <summary>A table's whole rows as text, ordered: the same text on both sides means the same rows.</summary>
    private static string KeyTypesChecksum(string table) => $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t";

    private static readonly string[] KeyTypesTables = ["we\"ird", "by_uuid", "by_text", "by_domain", "by_numeric", "by_time", "by_array", "by_long"];

    /// <summary>
    /// Deletes by a one-column key go as key arrays (<see cref="KeyArrayDeleter"/>) for every key type binary COPY carries, a
    /// domain and a quoted name included; an array-typed key cannot be an array's element and goes through the staging table.
    /// Rounds mix deletes with updates, inserts and a key deleted and taken again; small rounds end inside transactions, and
    /// the long text keys of a big round take several arrays.
    /// </summary>
    [Theory]
    [InlineData(20_000)]
    [InlineData(97)]
    public async Task Deletes_by_one_column_keys_of_every_type_give_production_tables(int roundSize)
    {
        await using var setup = await Setup.StartAsync($"apply-keytypes-{roundSize}", KeyTypesDdl, KeyTypesInitial, KeyTypesTables);
        await setup.Production.ExecuteAsync("""
            DELETE FROM "we""ird" WHERE "k""ey" % 3 = 0;
            UPDATE "we""ird" SET v = 'changed' WHERE "k""ey" % 5 = 0;
            BEGIN; DELETE FROM "we""ird" WHERE "k""ey" = 1; INSERT INTO "we""ird" VALUES (1, 'again'); COMMIT;
            DELETE FROM by_uuid WHERE v % 2 = 0;
            UPDATE by_uuid SET v = -v WHERE v % 7 = 1;
            DELETE FROM by_text WHERE v % 4 <> 1;
            INSERT INTO by_text VALUES ('k-2', -2), ('zz', 0);
            DELETE FROM by_domain WHERE v > 100;
            DELETE FROM by_numeric WHERE v % 3 = 1;
            UPDATE by_numeric SET id = id + 10000 WHERE v % 3 = 2 AND v < 500;
            DELETE FROM by_time WHERE v % 10 <> 0;
            DELETE FROM by_array WHERE v % 2 = 1;
            UPDATE by_array SET v = 0 WHERE v % 4 = 0;
            DELETE FROM by_long WHERE v % 3 <> 0;
            """);
        var transactions = await setup.DecodeAsync();

        await using var connection = await setup.Local.Server.OpenAsync(LocalCluster.Database);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            foreach (var table in KeyTypesTables)
            {
                var changes = transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.Name == table);
                await new TableChangeApplier(new TableName("public", table), OnConflict.Fail, roundSize).ApplyAsync(connection, changes, CancellationToken.None);
            }

            // Every table but the array-keyed one made its key table in this transaction.
            await using var keyTables = new NpgsqlCommand(@"SELECT count(*) FROM pg_class WHERE relname LIKE 'datasync\_keys\_%' AND relpersistence = 't' AND pg_table_is_visible(oid)", connection);
            Assert.Equal(KeyTypesTables.Length - 1L, (long)(await keyTables.ExecuteScalarAsync())!);
            await transaction.CommitAsync();
        }

        foreach (var table in KeyTypesTables.Select(SqlIdentifier.Quote))
            Assert.Equal(await setup.Production.QueryScalarAsync<string>(KeyTypesChecksum(table)), await setup.Local.QueryScalarAsync<string>(KeyTypesChecksum(table)));
        Assert.Equal(2000L, await setup.Local.QueryScalarAsync<long>("SELECT count(*) FROM \"we\"\"ird\""));
    }

    /// <summary>
    /// Updates by a one-column key are applied as replacements (the rows deleted by key array, their images copied in) only
    /// where that equals updating them: a local column production lacks keeps its values, a local trigger enabled ALWAYS
    /// sees updates and a local publication would send updates, because those tables are updated; a plain table is replaced. The server's own counts of this
    /// transaction tell which way each table went.
    /// </summary>
    [Fact]
    public async Task Updates_are_replacements_only_where_nothing_local_can_tell()
    {
        const string ddl = """
            CREATE TABLE plain (id int PRIMARY KEY, v int);
            CREATE TABLE kept (id int PRIMARY KEY, v int);
            CREATE TABLE audited (id int PRIMARY KEY, v int);
            CREATE TABLE published (id int PRIMARY KEY, v int);
            """;
        const string initial = """
            INSERT INTO plain SELECT g, g FROM generate_series(1, 500) g;
            INSERT INTO kept SELECT g, g FROM generate_series(1, 500) g;
            INSERT INTO audited SELECT g, g FROM generate_series(1, 500) g;
            INSERT INTO published SELECT g, g FROM generate_series(1, 500) g;
            """;
        string[] tables = ["plain", "kept", "audited", "published"];
        await using var setup = await Setup.StartAsync("apply-replace", ddl, initial, tables);
        await setup.Local.ExecuteAsync("""
            ALTER TABLE kept ADD COLUMN note text DEFAULT 'mine';
            UPDATE kept SET note = 'by hand';
            CREATE TABLE audit_log (op text);
            CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO audit_log VALUES (TG_OP); RETURN NULL; END $$;
            CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON audited FOR EACH ROW EXECUTE FUNCTION audit();
            ALTER TABLE audited ENABLE ALWAYS TRIGGER audit;
            CREATE PUBLICATION onward FOR TABLE published;
            """);
        await setup.Production.ExecuteAsync("""
            UPDATE plain SET v = -v WHERE id % 2 = 0;
            UPDATE plain SET id = id + 1000 WHERE id % 10 = 1;
            DELETE FROM plain WHERE id % 10 = 3;
            UPDATE kept SET v = -v WHERE id % 2 = 0;
            UPDATE audited SET v = -v WHERE id % 2 = 0;
            UPDATE published SET v = -v WHERE id % 2 = 0;
            """);
        var transactions = await setup.DecodeAsync();

        await using var connection = await setup.Local.Server.OpenAsync(LocalCluster.Database);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            foreach (var table in tables)
            {
                var changes = transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.Name == table);
                await new TableChangeApplier(new TableName("public", table), OnConflict.Fail).ApplyAsync(connection, changes, CancellationToken.None);
            }

            await using var counts = new NpgsqlCommand("SELECT relname, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables WHERE relname = ANY ($1)", connection);
            counts.Parameters.AddWithValue(tables);
            var seen = new Dictionary<string, (long Updated, long Deleted)>();
            await using (var reader = await counts.ExecuteReaderAsync())
                while (await reader.ReadAsync()) seen[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
            Assert.Equal((0L, 250L + 50 + 50), seen["plain"]); // 250 updated, 50 moved, 50 deleted: all replaced
            Assert.Equal((250L, 0L), seen["kept"]);
            Assert.Equal((250L, 0L), seen["audited"]);
            Assert.Equal((250L, 0L), seen["published"]);
            await transaction.CommitAsync();
        }

        foreach (var table in tables)
        {
            var rows = $"SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM {table}";
            Assert.Equal(await setup.Production.QueryScalarAsync<string>(rows), await setup.Local.QueryScalarAsync<string>(rows));
        }

        Assert.Equal(500L, await setup.Local.QueryScalarAsync<long>("SELECT count(*) FROM kept WHERE note = 'by hand'"));
        Assert.Equal("UPDATE:250", await setup.Local.QueryScalarAsync<string>("SELECT string_agg(op || ':' || n, ',') FROM (SELECT op, count(*) AS n FROM audit_log GROUP BY op) g"));
    }

    [Fact]
    public async Task Local_inheritance_children_keep_their_rows_and_partitioned_tables_take_theirs()
    {
        const string ddl = """
            CREATE TABLE solo (id int PRIMARY KEY, v int);
            CREATE TABLE duo (a int, b int, v int, PRIMARY KEY (a, b));
            CREATE TABLE parted (id int PRIMARY KEY, v int) PARTITION BY RANGE (id);
            CREATE TABLE parted_low PARTITION OF parted FOR VALUES FROM (MINVALUE) TO (250);
            CREATE TABLE parted_high PARTITION OF parted FOR VALUES FROM (250) TO (MAXVALUE);
            """;
        const string initial = """
            INSERT INTO solo SELECT g, g FROM generate_series(1, 500) g;
            INSERT INTO duo SELECT g, g % 3, g FROM generate_series(1, 500) g;
            INSERT INTO parted SELECT g, g FROM generate_series(1, 500) g;
            """;
        string[] tables = ["solo", "duo", "parted"];
        await using var setup = await Setup.StartAsync("apply-inherit", ddl, initial, tables);
        // The user's own local tables inherit from two synced ones and hold rows with the same keys.
        await setup.Local.ExecuteAsync("""
            CREATE TABLE solo_mine () INHERITS (solo);
            CREATE TABLE duo_mine () INHERITS (duo);
            INSERT INTO solo_mine SELECT g, -g FROM generate_series(1, 500) g;
            INSERT INTO duo_mine SELECT g, g % 3, -g FROM generate_series(1, 500) g;
            """);
        const string mine = "SELECT (SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM solo_mine) || (SELECT md5(string_agg(a || ':' || b || ':' || v, ',' ORDER BY a, b)) FROM duo_mine)";
        var mineBefore = await setup.Local.QueryScalarAsync<string>(mine);
        await setup.Production.ExecuteAsync("""
            UPDATE solo SET v = v + 1000 WHERE id % 2 = 0;
            UPDATE solo SET id = id + 1000 WHERE id % 10 = 1;
            DELETE FROM solo WHERE id % 5 = 0;
            UPDATE duo SET v = v + 1000 WHERE a % 2 = 0;
            DELETE FROM duo WHERE a % 5 = 0;
            UPDATE parted SET v = v + 1000 WHERE id % 2 = 0;
            UPDATE parted SET id = id + 1000 WHERE id % 10 = 1;
            DELETE FROM parted WHERE id % 5 = 0;
            """);
        var transactions = await setup.DecodeAsync();

        await using var connection = await setup.Local.Server.OpenAsync(LocalCluster.Database);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            foreach (var table in tables)
            {
                // A partition's rows are the synced partitioned table's.
                var changes = transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.SyncedName == table);
                await new TableChangeApplier(new TableName("public", table), OnConflict.Fail).ApplyAsync(connection, changes, CancellationToken.None);
            }

            await transaction.CommitAsync();
        }

        // Locally the synced rows of solo and duo are those of the tables themselves (ONLY), of parted those of its partitions.
        foreach (var (table, columns, local) in new[] { ("solo", "id || ':' || v", "ONLY solo"), ("duo", "a || ':' || b || ':' || v", "ONLY duo"), ("parted", "id || ':' || v", "parted") })
        {
            var order = table == "duo" ? "a, b" : "id";
            Assert.Equal(await setup.Production.QueryScalarAsync<string>($"SELECT md5(string_agg({columns}, ',' ORDER BY {order})) FROM {table}"),
                await setup.Local.QueryScalarAsync<string>($"SELECT md5(string_agg({columns}, ',' ORDER BY {order})) FROM {local}"));
        }

        Assert.Equal(mineBefore, await setup.Local.QueryScalarAsync<string>(mine));

        // An upstream TRUNCATE: counted and emptied are the synced table's own rows, and the partitioned one is emptied whole.
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            var solo = new TableName("public", "solo");
            var parted = new TableName("public", "parted");
            Assert.Equal(await setup.Production.QueryScalarAsync<long>("SELECT count(*) FROM solo"), await TableChangeApplier.CountRowsAsync(connection, solo, CancellationToken.None));
            Assert.Equal(await setup.Production.QueryScalarAsync<long>("SELECT count(*) FROM parted"), await TableChangeApplier.CountRowsAsync(connection, parted, CancellationToken.None));
            Assert.True(await TableChangeApplier.TruncateAsync(connection, [solo, parted], CancellationToken.None));
            await transaction.CommitAsync();
        }

        Assert.Equal(0L, await setup.Local.QueryScalarAsync<long>("SELECT (SELECT count(*) FROM ONLY solo) + (SELECT count(*) FROM parted)"));
        Assert.Equal(mineBefore, await setup.Local.QueryScalarAsync<string>(mine));
    }

    [Fact]
    public async Task Rows_a_local_trigger_skips_stop_the_apply_with_that_cause_and_no_made_up_lsn()
    {
        const string ddl = "CREATE TABLE guarded (id int PRIMARY KEY, v int);";
        const string initial = "INSERT INTO guarded SELECT g, g FROM generate_series(1, 100) g;";
        await using var setup = await Setup.StartAsync("apply-skipped", ddl, initial, ["guarded"]);
        await setup.Local.ExecuteAsync("""
            CREATE FUNCTION keep_odd() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF OLD.id % 2 = 1 THEN RETURN NULL; END IF; RETURN OLD; END $$;
            CREATE TRIGGER keep_odd BEFORE DELETE ON guarded FOR EACH ROW EXECUTE FUNCTION keep_odd();
            ALTER TABLE guarded ENABLE ALWAYS TRIGGER keep_odd;
            """);
        await setup.Production.ExecuteAsync("DELETE FROM guarded WHERE id <= 10");
        var transactions = await setup.DecodeAsync();

        await using var connection = await setup.Local.Server.OpenAsync(LocalCluster.Database);
        await using var transaction = await connection.BeginTransactionAsync();
        var changes = transactions.SelectMany(t => t).OfType<RowChange>();
        var conflict = await Assert.ThrowsAsync<ApplyConflictException>(() =>
            new TableChangeApplier(new TableName("public", "guarded"), OnConflict.Fail).ApplyAsync(connection, changes, CancellationToken.None));
        // Every row to delete is there, so no change alone is at fault: the message names the local cause, not LSN 0/0.
        Assert.Equal(Lsn.Invalid, conflict.Lsn);
        Assert.Contains("something local hides or skips rows from the apply", conflict.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("0/0", conflict.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Row-level security that applies to the apply user (the table's owner, FORCE): the server refuses COPY into such a
    /// table, so new rows go in by INSERT from the staging table, and updates stay updates. On "allowed" every policy lets
    /// the apply through, and the table ends as production's. On "policed" the UPDATE policy reaches even keys only, while
    /// DELETE and INSERT reach all: a replacement (DELETE and COPY) would change the odd rows the policy keeps from it; the
    /// UPDATE meets the policy, and the round stops with a conflict that names the local cause.
    /// </summary>
    [Fact]
    public async Task Updates_under_row_level_security_for_the_apply_user_stay_updates()
    {
        const string ddl = "CREATE TABLE policed (id int PRIMARY KEY, v int); CREATE TABLE allowed (id int PRIMARY KEY, v int);";
        const string initial = "INSERT INTO policed SELECT g, g FROM generate_series(1, 200) g; INSERT INTO allowed SELECT g, g FROM generate_series(1, 200) g;";
        await using var setup = await Setup.StartAsync("apply-rls", ddl, initial, ["policed", "allowed"]);
        await setup.Local.ExecuteAsync("""
            CREATE ROLE applier LOGIN PASSWORD 'apply-only';
            ALTER TABLE allowed OWNER TO applier;
            ALTER TABLE allowed ENABLE ROW LEVEL SECURITY;
            ALTER TABLE allowed FORCE ROW LEVEL SECURITY;
            CREATE POLICY everything ON allowed USING (true) WITH CHECK (true);
            ALTER TABLE policed OWNER TO applier;
            ALTER TABLE policed ENABLE ROW LEVEL SECURITY;
            ALTER TABLE policed FORCE ROW LEVEL SECURITY;
            CREATE POLICY seen ON policed FOR SELECT USING (true);
            CREATE POLICY gone ON policed FOR DELETE USING (true);
            CREATE POLICY added ON policed FOR INSERT WITH CHECK (true);
            CREATE POLICY even ON policed FOR UPDATE USING (id % 2 = 0) WITH CHECK (true);
            """);
        const string rows = "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM policed";
        var before = await setup.Local.QueryScalarAsync<string>(rows);
        await setup.Production.ExecuteAsync("""
            UPDATE policed SET v = -v WHERE id <= 100;
            UPDATE allowed SET v = -v WHERE id <= 100;
            DELETE FROM allowed WHERE id % 7 = 0;
            INSERT INTO allowed SELECT g, g FROM generate_series(201, 260) g;
            """);
        var transactions = await setup.DecodeAsync();

        var asApplier = new NpgsqlConnectionStringBuilder(setup.Local.Server.ConnectionString(LocalCluster.Database)) { Username = "applier", Password = "apply-only" }.ConnectionString;
        await using (var connection = new NpgsqlConnection(asApplier))
        {
            await connection.OpenAsync();
            await using (var allowed = await connection.BeginTransactionAsync())
            {
                var allowedChanges = transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.Name == "allowed");
                var counts = await new TableChangeApplier(new TableName("public", "allowed"), OnConflict.Fail).ApplyAsync(connection, allowedChanges, CancellationToken.None);
                Assert.Equal(new ApplyCounts(60, 100, 28), counts);
                await allowed.CommitAsync();
            }

            const string allowedRows = "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM allowed";
            Assert.Equal(await setup.Production.QueryScalarAsync<string>(allowedRows), await setup.Local.QueryScalarAsync<string>(allowedRows));

            await using var transaction = await connection.BeginTransactionAsync();
            var changes = transactions.SelectMany(t => t).OfType<RowChange>().Where(c => c.Table.Name == "policed");
            var conflict = await Assert.ThrowsAsync<ApplyConflictException>(() =>
                new TableChangeApplier(new TableName("public", "policed"), OnConflict.Fail).ApplyAsync(connection, changes, CancellationToken.None));
            Assert.Contains("row-level security", conflict.Message, StringComparison.Ordinal);
        }

        Assert.Equal(before, await setup.Local.QueryScalarAsync<string>(rows));
    }

    /// <summary>Production and local with the same tables and rows, the catalog and the start LSN.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private Lsn _start;
        private Wal.Catalog.CatalogSnapshot _catalog = null!;
        private CatalogLocations _locations = null!;

        public ProductionCluster Production { get; private set; } = null!;
        public LocalCluster Local { get; private set; } = null!;

        /// <param name="tables">The tables <paramref name="ddl"/> makes and <paramref name="initial"/> fills (acct and pair by default).</param>
        public static async Task<Setup> StartAsync(string name, string ddl = Ddl, string initial = Initial, string[]? tables = null)
        {
            tables ??= ["acct", "pair"];
            var setup = new Setup { Production = await ProductionCluster.StartAsync(name) };
            setup.Local = await LocalCluster.StartAsync(name);
            await setup.Production.ExecuteAsync(ddl + initial);
            await setup.Local.ExecuteAsync(ddl);
            await using var source = await setup.Production.Server.OpenAsync(ProductionCluster.Database);
            await using var target = await setup.Local.Server.OpenAsync(LocalCluster.Database);
            foreach (var table in tables)
            {
                var name2 = new TableName("public", table);
                await TableCopier.CopyAsync(source, target, name2, await TableCopier.CopyableColumnsAsync(source, name2, CancellationToken.None), freeze: false, CancellationToken.None);
            }

            setup._start = Lsn.Parse(await setup.Production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
            (setup._catalog, setup._locations) = await ProductionCatalogReader.ReadAsync(source, tables.Select(t => new TableName("public", t)).ToList(), setup._start,
                CancellationToken.None);
            return setup;
        }

        /// <summary>Archives everything written so far and decodes it from the start LSN; each transaction's changes, in commit order.</summary>
        public async Task<List<List<TransactionChange>>> DecodeAsync()
        {
            var last = await Production.SwitchSegmentAndWaitArchivedAsync();
            const uint segmentSize = 16 * 1024 * 1024;
            var first = WalSegmentName.Format(1, _start.Value / segmentSize, segmentSize);
            var segments = Production.ArchivedSegments()
                .Where(s => string.CompareOrdinal(Path.GetFileName(s), first) >= 0 && string.CompareOrdinal(Path.GetFileName(s), last) <= 0)
                .Select(WalSegmentSource.FromFile);
            using var decoder = new ChangeDecoder(_catalog, _locations, segments, _start);
            return decoder.Transactions().Select(t => t.Changes.ToList()).ToList();
        }

        public async ValueTask DisposeAsync()
        {
            await Local.DisposeAsync();
            await Production.DisposeAsync();
        }
    }
}
