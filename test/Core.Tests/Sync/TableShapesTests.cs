using DataSync.Core.Embedded;
using DataSync.Embedded;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Sync;

/// <summary>
/// Table shapes real schemas have (issue #12), each bootstrapped from a base backup and then changed upstream through
/// the engine: the local table must end identical to production's (md5 of its ordered rows).
/// </summary>
public sealed class TableShapesTests
{
    /// <summary>A production and a local cluster with the same DDL, the tables listed and bootstrapped.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        public required ProductionCluster Production { get; init; }
        public required LocalCluster Local { get; init; }
        public required SyncEngine Engine { get; init; }
        public required Npgsql.NpgsqlDataSource DataSource { get; init; }
        public required ProgressRecorder Progress { get; init; }

        public static async Task<Rig> StartAsync(string name, string productionDdl, string localDdl, string tables, string? beforeBackup = null,
            ProductionShape? shape = null)
        {
            var production = await ProductionCluster.StartAsync(name, shape: shape);
            var local = await LocalCluster.StartAsync(name);
            await production.ExecuteAsync(productionDdl);
            if (beforeBackup is not null) await production.ExecuteAsync(beforeBackup);
            await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
            await production.SwitchSegmentAndWaitArchivedAsync();
            await local.ExecuteAsync(localDdl);
            var dataSource = await EngineSetup.LocalAsync(local, tables);
            var progress = new ProgressRecorder();
            var settings = EngineSetup.Settings(local, production) with { ProdDbName = production.DatabaseName };
            var engine = await EngineSetup.EngineAsync(settings, dataSource, progress);
            return new Rig { Production = production, Local = local, Engine = engine, DataSource = dataSource, Progress = progress };
        }

        /// <summary>Runs <paramref name="statements"/> upstream one by one, archives them and runs a cycle.</summary>
        public async Task<SyncCycleResult> SyncAsync(params string[] statements)
        {
            foreach (var statement in statements) await Production.ExecuteAsync(statement);
            await Production.SwitchSegmentAndWaitArchivedAsync();
            return await Engine.RunCycleAsync(CancellationToken.None);
        }

        public async Task<string> FailuresAsync() =>
            await Local.QueryScalarAsync<string>("SELECT coalesce(string_agg(error_detail, ' | '), '') FROM data_sync_logs WHERE status = 'FAILED'");

        /// <summary>Asserts that <paramref name="table"/> has the same rows on both sides, ordered by <paramref name="orderBy"/>.</summary>
        public async Task AssertSameAsync(string table, string orderBy)
        {
            // Compared as UTF8 bytes: a production in another encoding holds the same text in other bytes.
            var sql = $"SELECT md5(convert_to(coalesce(string_agg(t::text, '|' ORDER BY {orderBy}), ''), 'UTF8')) || ' ' || count(*) FROM {table} t";
            var expected = await Production.QueryScalarAsync<string>(sql);
            var actual = await Local.QueryScalarAsync<string>(sql);
            Assert.True(expected == actual, $"{table}: production {expected}, local {actual}; failures: {await FailuresAsync()}; progress: {string.Join(" / ", Progress.Lines)}");
            Assert.DoesNotContain(" 0", expected, StringComparison.Ordinal);
        }

        public async ValueTask DisposeAsync()
        {
            await DataSource.DisposeAsync();
            await Local.DisposeAsync();
            await Production.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_partitioned_table_is_synced_whole_with_rows_moving_between_partitions()
    {
        // Production's "us" partition is built apart with its columns in another order and attached; "other" is created after a
        // column of the parent was dropped, so its attribute numbers differ from the parent's, and is partitioned again.
        const string production = """
            CREATE TABLE events (region text NOT NULL, id bigint NOT NULL, gone int, note text, amount numeric, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
            CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
            CREATE TABLE events_us (note text, amount numeric, id bigint NOT NULL, gone int, region text NOT NULL);
            ALTER TABLE events ATTACH PARTITION events_us FOR VALUES IN ('us');
            ALTER TABLE events DROP COLUMN gone;
            CREATE TABLE events_other PARTITION OF events DEFAULT PARTITION BY HASH (id);
            CREATE TABLE events_other_0 PARTITION OF events_other FOR VALUES WITH (MODULUS 2, REMAINDER 0);
            CREATE TABLE events_other_1 PARTITION OF events_other FOR VALUES WITH (MODULUS 2, REMAINDER 1);
            """;
        const string local = """
            CREATE TABLE events (region text NOT NULL, id bigint NOT NULL, note text, amount numeric, PRIMARY KEY (region, id)) PARTITION BY LIST (region);
            CREATE TABLE events_eu PARTITION OF events FOR VALUES IN ('eu');
            CREATE TABLE events_us PARTITION OF events FOR VALUES IN ('us');
            CREATE TABLE events_other PARTITION OF events DEFAULT;
            """;
        await using var rig = await Rig.StartAsync("shape-partitioned", production, local, "events",
            "INSERT INTO events (region, id, note, amount) SELECT (ARRAY['eu', 'us', 'ap'])[1 + g % 3], g, 'n' || g, g * 1.5 FROM generate_series(1, 300) g");

        var first = await rig.Engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(["public.events"], first.TablesBootstrapped);
        await rig.AssertSameAsync("events", "region, id");

        var second = await rig.SyncAsync(
            "INSERT INTO events (region, id, note, amount) SELECT (ARRAY['eu', 'us', 'ap'])[1 + g % 3], g, 'new', g FROM generate_series(301, 600) g",
            "UPDATE events SET note = 'updated' WHERE id % 7 = 0",
            // Rows move between partitions: a DELETE from one partition's file and an INSERT into another's.
            "UPDATE events SET region = 'us', note = 'moved' WHERE region = 'eu' AND id % 5 = 0",
            "UPDATE events SET region = 'eu' WHERE region = 'ap' AND id % 4 = 0",
            "DELETE FROM events WHERE id % 11 = 0",
            "BEGIN; UPDATE events SET region = 'zz' WHERE id = 2; UPDATE events SET region = 'eu', note = 'back' WHERE id = 2; COMMIT;");
        Assert.True(second.TablesPaused.Count == 0, await rig.FailuresAsync());
        await rig.AssertSameAsync("events", "region, id");
        Assert.True(await rig.Local.QueryScalarAsync<long>("SELECT count(*) FROM events_us WHERE note = 'moved'") > 0);

        // A partition attached upstream would carry rows the decoder knows nothing of: the table pauses and says what to do.
        var attached = await rig.SyncAsync(
            "CREATE TABLE events_jp PARTITION OF events FOR VALUES IN ('jp')",
            "INSERT INTO events (region, id, note) VALUES ('jp', 1, 'in the new partition')");
        Assert.Equal(["public.events"], attached.TablesPaused);
        var failure = await rig.FailuresAsync();
        Assert.Contains("a partition was attached", failure);
        Assert.Contains("datasync resync public.events", failure);

        // Doing as told (the same partition locally, then a resync) brings the table back, new partition included.
        await rig.Local.ExecuteAsync("CREATE TABLE events_jp PARTITION OF events FOR VALUES IN ('jp')");
        await new TableMaintenance(rig.DataSource, new TableRegistry(rig.DataSource)).RequestResyncAsync([new TableName("public", "events")]);
        var resynced = await rig.SyncAsync("INSERT INTO events (region, id, note) VALUES ('jp', 2, 'after the attach')");
        Assert.Equal(["public.events"], resynced.TablesBootstrapped);
        var followed = await rig.SyncAsync("UPDATE events SET region = 'jp' WHERE region = 'us' AND id BETWEEN 10 AND 50", "DELETE FROM events WHERE region = 'eu' AND id < 30");
        Assert.True(followed.TablesPaused.Count == 0, await rig.FailuresAsync());
        await rig.AssertSameAsync("events", "region, id");

        // A partition detached upstream pauses the table too, naming the partition.
        var detached = await rig.SyncAsync("ALTER TABLE events DETACH PARTITION events_us");
        Assert.Equal(["public.events"], detached.TablesPaused);
        Assert.Contains("production changed partition public.events_us of the table", await rig.FailuresAsync());
    }

    [Fact]
    public async Task A_partition_truncated_alone_pauses_the_table()
    {
        const string ddl = """
            CREATE TABLE metrics (day date NOT NULL, id int NOT NULL, v int, PRIMARY KEY (day, id)) PARTITION BY RANGE (day);
            CREATE TABLE metrics_2025 PARTITION OF metrics FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
            CREATE TABLE metrics_2026 PARTITION OF metrics FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
            """;
        await using var rig = await Rig.StartAsync("shape-detach", ddl, ddl, "metrics",
            "INSERT INTO metrics SELECT DATE '2025-06-01' + g, g, g FROM generate_series(1, 400) g");
        await rig.Engine.RunCycleAsync(CancellationToken.None);

        // A TRUNCATE of the partitioned table empties every partition: applied.
        var whole = await rig.SyncAsync("TRUNCATE metrics", "INSERT INTO metrics SELECT DATE '2025-12-01' + g, g, g FROM generate_series(1, 100) g");
        Assert.True(whole.TablesPaused.Count == 0, await rig.FailuresAsync());
        await rig.AssertSameAsync("metrics", "day, id");

        var truncated = await rig.SyncAsync("UPDATE metrics SET v = v + 1 WHERE id < 10", "TRUNCATE metrics_2025");
        Assert.Equal(["public.metrics"], truncated.TablesPaused);
        Assert.Contains("truncated partition(s) public.metrics_2025 of the table alone", await rig.FailuresAsync());
    }

    [Fact]
    public async Task Rows_written_before_columns_were_added_or_dropped_are_updated_and_deleted()
    {
        // Rows 1-200 predate the added columns (their tuples lack them: PostgreSQL fills them from attmissingval) and
        // carry the dropped one. REPLICA IDENTITY FULL logs their whole old image, the added columns included.
        const string production = """
            CREATE TABLE evolved (id int PRIMARY KEY, a text, dropme text, b int);
            INSERT INTO evolved SELECT g, 'a' || g, 'x', g FROM generate_series(1, 200) g;
            ALTER TABLE evolved ADD COLUMN c int DEFAULT 42, ADD COLUMN d text DEFAULT 'dflt', ADD COLUMN e int, ADD COLUMN f jsonb DEFAULT '{"k": [1, 2]}';
            ALTER TABLE evolved DROP COLUMN dropme;
            ALTER TABLE evolved REPLICA IDENTITY FULL;
            INSERT INTO evolved (id, a, b, c, d, e) SELECT g, 'a' || g, g, g, 'new', g FROM generate_series(201, 250) g;
            """;
        const string local = """
            CREATE TABLE evolved (id int PRIMARY KEY, a text, b int, c int DEFAULT 42, d text DEFAULT 'dflt', e int, f jsonb DEFAULT '{"k": [1, 2]}');
            """;
        await using var rig = await Rig.StartAsync("shape-evolved", production, local, "evolved");
        await rig.Engine.RunCycleAsync(CancellationToken.None);
        await rig.AssertSameAsync("evolved", "id");

        var result = await rig.SyncAsync(
            "UPDATE evolved SET a = 'updated' WHERE id % 3 = 0",
            "UPDATE evolved SET e = id WHERE id % 10 = 1 AND id <= 200",
            "UPDATE evolved SET id = id + 1000 WHERE id % 17 = 0 AND id <= 200",
            "DELETE FROM evolved WHERE id % 5 = 0",
            "INSERT INTO evolved (id, a) VALUES (500, 'after')");
        Assert.True(result.TablesPaused.Count == 0, await rig.FailuresAsync());
        await rig.AssertSameAsync("evolved", "id");
    }

    [Fact]
    public async Task Generated_columns_are_computed_locally_and_identity_columns_carry_production_values()
    {
        const string ddl = """
            CREATE TABLE gen (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                code int GENERATED ALWAYS AS IDENTITY (START WITH 1000),
                ref int GENERATED BY DEFAULT AS IDENTITY,
                qty int, price numeric,
                total numeric GENERATED ALWAYS AS (qty * price) STORED,
                label text GENERATED ALWAYS AS ('q' || qty) VIRTUAL);
            """;
        await using var rig = await Rig.StartAsync("shape-generated", ddl, ddl, "gen",
            "INSERT INTO gen (qty, price) SELECT g, g * 0.5 FROM generate_series(1, 100) g");
        await rig.Engine.RunCycleAsync(CancellationToken.None);
        await rig.AssertSameAsync("gen", "id");

        var result = await rig.SyncAsync(
            "INSERT INTO gen (qty, price) SELECT g, 2 FROM generate_series(1, 50) g",
            "INSERT INTO gen (id, code, qty, price) OVERRIDING SYSTEM VALUE VALUES (9000, 9000, 1, 1)",
            "UPDATE gen SET qty = qty + 1 WHERE id % 3 = 0",
            // A GENERATED ALWAYS column takes a new value only as DEFAULT upstream; locally it cannot be assigned at all.
            "UPDATE gen SET code = DEFAULT WHERE id % 7 = 0",
            "UPDATE gen SET id = DEFAULT, price = 99 WHERE id = 5",
            "UPDATE gen SET ref = ref + 500 WHERE id % 4 = 0",
            "DELETE FROM gen WHERE id % 9 = 0");
        Assert.True(result.TablesPaused.Count == 0, await rig.FailuresAsync());
        await rig.AssertSameAsync("gen", "id");
    }

    [Fact]
    public async Task Rows_exchanging_unique_values_or_keys_in_one_transaction_apply()
    {
        const string ddl = """
            CREATE TABLE seats (id int PRIMARY KEY, seat text NOT NULL UNIQUE, holder text, big text);
            ALTER TABLE seats ALTER COLUMN big SET STORAGE EXTERNAL;
            """;
        await using var rig = await Rig.StartAsync("shape-unique", ddl, ddl, "seats",
            "INSERT INTO seats SELECT g, 'S' || g, 'h' || g, CASE WHEN g % 2 = 0 THEN repeat('t', 5000) END FROM generate_series(1, 100) g");
        await rig.Engine.RunCycleAsync(CancellationToken.None);
        await rig.AssertSameAsync("seats", "id");

        var result = await rig.SyncAsync(
            // Two rows swap their unique seats through a placeholder; row 2 keeps its TOASTed value untouched.
            "BEGIN; UPDATE seats SET seat = 'tmp' WHERE id = 1; UPDATE seats SET seat = 'S1', holder = 'swapped' WHERE id = 2; UPDATE seats SET seat = 'S2' WHERE id = 1; COMMIT;",
            // Two rows swap their keys.
            "BEGIN; UPDATE seats SET id = -1 WHERE id = 3; UPDATE seats SET id = 3 WHERE id = 4; UPDATE seats SET id = 4 WHERE id = -1; COMMIT;",
            "UPDATE seats SET holder = 'plain' WHERE id BETWEEN 10 AND 20",
            "DELETE FROM seats WHERE id = 50");
        Assert.True(result.TablesPaused.Count == 0, await rig.FailuresAsync());
        await rig.AssertSameAsync("seats", "id");
        Assert.Equal("S2", await rig.Local.QueryScalarAsync<string>("SELECT seat FROM seats WHERE id = 1"));
    }

    [Fact]
    public async Task Quoted_mixed_case_schema_table_and_column_names_sync()
    {
        const string ddl = """
            CREATE SCHEMA "Sales";
            CREATE TABLE "Sales"."Order Lines" ("Order Id" int, "Line" int, "Qty" int, "Note ""q"" x" text, PRIMARY KEY ("Order Id", "Line"));
            CREATE TABLE "Sales".order_lines (id int PRIMARY KEY, v text);
            """;
        await using var rig = await Rig.StartAsync("shape-names", ddl, ddl, "\"Sales\".\"Order Lines\" \"Sales\".ORDER_LINES",
            "INSERT INTO \"Sales\".\"Order Lines\" SELECT g / 10, g % 10, g, 'n' FROM generate_series(1, 200) g; INSERT INTO \"Sales\".order_lines VALUES (1, 'lower')");
        var first = await rig.Engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(["\"Sales\".\"Order Lines\"", "\"Sales\".order_lines"], first.TablesBootstrapped.Order(StringComparer.Ordinal));
        await rig.AssertSameAsync("\"Sales\".\"Order Lines\"", "\"Order Id\", \"Line\"");

        var result = await rig.SyncAsync(
            "UPDATE \"Sales\".\"Order Lines\" SET \"Qty\" = -\"Qty\", \"Note \"\"q\"\" x\" = 'changed' WHERE \"Line\" = 3",
            "UPDATE \"Sales\".\"Order Lines\" SET \"Line\" = \"Line\" + 100 WHERE \"Line\" = 4",
            "DELETE FROM \"Sales\".\"Order Lines\" WHERE \"Line\" = 5",
            "INSERT INTO \"Sales\".\"Order Lines\" VALUES (99, 1, 1, 'new')",
            "UPDATE \"Sales\".order_lines SET v = 'still lower'");
        Assert.True(result.TablesPaused.Count == 0, await rig.FailuresAsync());
        await rig.AssertSameAsync("\"Sales\".\"Order Lines\"", "\"Order Id\", \"Line\"");
        await rig.AssertSameAsync("\"Sales\".order_lines", "id");
    }

    [Fact]
    public async Task A_table_unlogged_in_production_is_refused_alone_at_bootstrap_with_the_reason()
    {
        const string local = "CREATE TABLE scratch (id int PRIMARY KEY, v text); CREATE TABLE kept (id int PRIMARY KEY)";
        await using var rig = await Rig.StartAsync("shape-unlogged", "CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, v text); CREATE TABLE kept (id int PRIMARY KEY)",
            local, "scratch, kept", "INSERT INTO scratch VALUES (1, 'never in the WAL'); INSERT INTO kept SELECT generate_series(1, 50)");
        var result = await rig.Engine.RunCycleAsync(CancellationToken.None);
        var outcome = Assert.IsType<BootstrapOutcome>(result.Bootstrap);
        Assert.Equal(BootstrapResult.Copied, outcome.Result);
        Assert.Equal(["public.kept"], result.TablesBootstrapped);
        var refused = Assert.Single(outcome.Refused);
        Assert.Equal("public.scratch", refused.Table.ToString());
        Assert.Contains("production's table public.scratch is unlogged: its changes never reach the WAL", refused.Cause);
        Assert.Contains("datasync remove-tables public.scratch", refused.Cause);
        Assert.Contains("run: datasync resync public.scratch", refused.Cause);
        Assert.Equal("failed", await rig.Local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.scratch'"));
        var failed = await rig.Local.QueryScalarAsync<string>("SELECT string_agg(table_name || ' | ' || error_detail, E'\n') FROM data_sync_logs WHERE status = 'FAILED'");
        Assert.DoesNotContain('\n', failed);
        Assert.StartsWith("public.scratch | ", failed);
        Assert.Contains(refused.Cause, failed);
        await rig.AssertSameAsync("kept", "id");
    }

    [Fact]
    public async Task Text_from_a_LATIN1_production_is_converted_to_the_local_encoding()
    {
        const string ddl = """
            CREATE TYPE mood AS ENUM ('heiß', 'café');
            CREATE TABLE words (id int PRIMARY KEY, t text, v varchar(20), c char(6), n name, j json, jb jsonb, a text[], m mood, big text);
            ALTER TABLE words ALTER COLUMN big SET STORAGE EXTERNAL;
            """;
        const string row = "'Grüße ÿ © ' || g, 'café ' || g, 'Bär', 'naïve', '{\"clé\": \"été\"}', jsonb_build_object('schlüssel', 'wärme ' || g, 'n', g), " +
                           "ARRAY['über', NULL, 'Æ'], 'café', repeat('é', 3000)";
        await using var rig = await Rig.StartAsync("shape-latin1", ddl, ddl, "words",
            $"INSERT INTO words SELECT g, {row} FROM generate_series(1, 50) g", new ProductionShape { Encoding = "LATIN1" });
        Assert.Equal("LATIN1", await rig.Production.QueryScalarAsync<string>("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()"));
        await rig.Engine.RunCycleAsync(CancellationToken.None);
        await rig.AssertSameAsync("words", "id");

        var result = await rig.SyncAsync(
            $"INSERT INTO words SELECT g, {row} FROM generate_series(51, 100) g",
            "UPDATE words SET t = t || ' àéîõü', m = 'heiß', n = 'Ölförderung' WHERE id % 3 = 0",
            "UPDATE words SET id = id + 1000 WHERE id % 7 = 0",
            "DELETE FROM words WHERE id % 5 = 0");
        Assert.True(result.TablesPaused.Count == 0, await rig.FailuresAsync());
        await rig.AssertSameAsync("words", "id");
        Assert.Equal("Grüße ÿ © 3 àéîõü", await rig.Local.QueryScalarAsync<string>("SELECT t FROM words WHERE id = 3"));
    }

    [Fact]
    public async Task A_SQL_ASCII_production_is_refused_at_bootstrap_with_the_reason()
    {
        const string ddl = "CREATE TABLE raw_bytes (id int PRIMARY KEY, t text)";
        await using var rig = await Rig.StartAsync("shape-sqlascii", ddl, ddl, "raw_bytes", "INSERT INTO raw_bytes VALUES (1, 'plain')",
            new ProductionShape { Encoding = "SQL_ASCII" });
        var refused = await RefusedAsync(rig.Engine, rig.Local);
        Assert.Contains("production's database has encoding SQL_ASCII", refused);
        Assert.Contains("cannot sync public.raw_bytes", refused);
    }

    [Fact]
    public async Task A_production_locale_this_machine_lacks_is_named_with_the_fix()
    {
        // Production has a locale the machine does not: its server starts with a private locale folder (LOCPATH) holding
        // de_DE.UTF-8, which the temporary restore, started without it, cannot find.
        var locales = Path.Combine(Path.GetTempPath(), "datasync-test-locales");
        if (!Directory.Exists(Path.Combine(locales, "de_DE.UTF-8")))
        {
            Directory.CreateDirectory(locales);
            var made = await ProcessRunner.RunAsync("localedef", ["-i", "de_DE", "-f", "UTF-8", Path.Combine(locales, "de_DE.UTF-8")]);
            Assert.True(Directory.Exists(Path.Combine(locales, "de_DE.UTF-8")), made.StandardError);
            await ProcessRunner.RunAsync("chmod", ["-R", "a+rX", locales]);
        }

        ProductionCluster production;
        Environment.SetEnvironmentVariable("LOCPATH", locales);
        try
        {
            production = await ProductionCluster.StartAsync("shape-locale");
        }
        finally
        {
            Environment.SetEnvironmentVariable("LOCPATH", null);
        }

        await using var _ = production;
        await using var local = await LocalCluster.StartAsync("shape-locale");
        await production.Server.ExecuteAsync("CREATE DATABASE german TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER libc LOCALE 'de_DE.UTF-8'");
        await production.Server.ExecuteAsync("CREATE TABLE notes (id int PRIMARY KEY, t text)", "german");
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await local.ExecuteAsync("CREATE TABLE notes (id int PRIMARY KEY, t text)");
        await using var dataSource = await EngineSetup.LocalAsync(local, "notes");
        var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production) with { ProdDbName = "german" }, dataSource);

        var refused = await RefusedAsync(engine, local);
        Assert.Contains("production's database 'german' uses the locale \"de_DE.UTF-8\"", refused);
        Assert.Contains("localedef -i de_DE -f UTF-8 de_DE.UTF-8", refused);
    }

    /// <summary>A bootstrap refused for a reason: the cycle reports it as failed and logs it once per table as a FAILED row. Returns the reason.</summary>
    private static async Task<string> RefusedAsync(SyncEngine engine, LocalCluster local)
    {
        var result = await engine.RunCycleAsync(CancellationToken.None);
        var outcome = Assert.IsType<BootstrapOutcome>(result.Bootstrap);
        Assert.Equal(BootstrapResult.Failed, outcome.Result);
        Assert.Empty(result.TablesBootstrapped);
        Assert.Contains(outcome.Message!, await local.QueryScalarAsync<string>("SELECT string_agg(error_detail, ' | ') FROM data_sync_logs WHERE status = 'FAILED'"));
        return outcome.Message!;
    }
}
