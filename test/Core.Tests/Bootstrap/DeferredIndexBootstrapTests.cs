using DataSync.Core.Tests.Cli;
using DataSync.Core.Tests.Sync;
using DataSync.Embedded;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>
/// A bootstrap copies a table's rows as production's COPY bytes, relayed in large pieces, into the local table with the
/// indexes it can build again exactly dropped for the copy and built over the rows after it, in the copy's transaction.
/// The table ends md5-identical to production, with every index and constraint defined as before (a deferrable key stays
/// deferrable); an index that carries something its definition does not (a comment) is left in place and kept up by the
/// copy; and the stream goes on applying changes to the rebuilt indexes.
/// </summary>
public sealed class DeferredIndexBootstrapTests
{
    private const string Ddl = """
        CREATE TABLE typed_rows (
            id bigint PRIMARY KEY,
            code text NOT NULL,
            small smallint,
            amount numeric(14,3),
            ratio double precision,
            flag boolean,
            born date,
            seen timestamptz,
            span interval,
            token uuid,
            doc jsonb,
            tags text[],
            blob bytea,
            addr inet,
            CONSTRAINT typed_rows_code_key UNIQUE (code) DEFERRABLE INITIALLY IMMEDIATE);
        """;

    // Local-only indexes: a partial and an expression index the deferral takes, a commented one it leaves.
    private const string LocalIndexes = """
        CREATE INDEX typed_rows_seen_partial ON typed_rows (seen DESC) WHERE flag;
        CREATE INDEX typed_rows_lower_code ON typed_rows (lower(code)) INCLUDE (small) WITH (fillfactor = 70);
        CREATE INDEX typed_rows_commented ON typed_rows (amount);
        COMMENT ON INDEX typed_rows_commented IS 'kept by the bootstrap';
        """;

    private const string Fill = """
        INSERT INTO typed_rows
        SELECT g, 'code-' || g, (g % 30000)::smallint, g * 1.125, g / 7.0, g % 3 = 0, DATE '2020-01-01' + g % 2000,
               TIMESTAMPTZ '2026-01-01 00:00:00+00' + g * interval '1 second', make_interval(days => g % 40, secs => g % 59),
               md5(g::text)::uuid, jsonb_build_object('g', g, 'even', g % 2 = 0), ARRAY['t' || g, NULL, 'x'],
               decode(md5(g::text), 'hex'), ('10.0.' || (g % 250) || '.' || (g % 200))::inet
        FROM generate_series(1, 40000) g;
        UPDATE typed_rows SET small = NULL, amount = NULL, doc = NULL, tags = NULL, blob = NULL WHERE id % 11 = 0;
        -- One row larger than a relay piece (1 MiB): it crosses pieces.
        UPDATE typed_rows SET blob = (SELECT string_agg(decode(md5(i::text), 'hex'), ''::bytea) FROM generate_series(1, 200000) i) WHERE id = 777;
        """;

    private const string Checksum = "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM typed_rows t";

    private const string Definitions = """
        SELECT string_agg(d, E'\n' ORDER BY d) FROM (
            SELECT pg_get_indexdef(indexrelid) AS d FROM pg_index WHERE indrelid = 'typed_rows'::regclass
            UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'typed_rows'::regclass
            UNION ALL SELECT 'comment ' || obj_description('typed_rows_commented'::regclass, 'pg_class')) x
        """;

    private const string IndexOids = "SELECT string_agg(c.relname || '=' || c.oid, ',' ORDER BY c.relname) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'typed_rows'::regclass";

    [Fact]
    public async Task A_bootstrapped_table_is_identical_with_its_indexes_built_after_the_rows_and_a_commented_one_kept()
    {
        await using var production = await ProductionCluster.StartAsync("deferred-index-boot");
        await using var local = await LocalCluster.StartAsync("deferred-index-boot");
        await production.ExecuteAsync(Ddl);
        await production.ExecuteAsync(Fill);
        await local.ExecuteAsync(Ddl);
        await local.ExecuteAsync(LocalIndexes);
        var definitionsBefore = await local.QueryScalarAsync<string>(Definitions);
        var oidsBefore = (await local.QueryScalarAsync<string>(IndexOids)).Split(',');
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);

        await using var dataSource = await EngineSetup.LocalAsync(local, "public.typed_rows");
        var progress = new ProgressRecorder();
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource, progress);
        await production.SwitchSegmentAndWaitArchivedAsync();
        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.True(first.TablesBootstrapped.SequenceEqual(["public.typed_rows"]), string.Join("\n", progress.Lines) + first.Bootstrap?.Message);

        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));
        Assert.Equal(40_000L, await local.QueryScalarAsync<long>("SELECT count(*) FROM typed_rows"));
        Assert.Equal(definitionsBefore, await local.QueryScalarAsync<string>(Definitions));
        // The primary key, the deferrable unique key, the partial and the expression index were built again (new oids); the
        // commented index was kept (same oid).
        var oidsAfter = (await local.QueryScalarAsync<string>(IndexOids)).Split(',');
        Assert.Equal(
            ["typed_rows_commented"],
            oidsBefore.Intersect(oidsAfter).Select(o => o.Split('=')[0]).ToArray());
        Assert.Equal(5, oidsAfter.Length);
        Assert.Contains(progress.Lines, l => l.StartsWith("bootstrapped public.typed_rows: 40000 rows copied", StringComparison.Ordinal)
            && l.Contains(", then 4 index(es) built in ", StringComparison.Ordinal) && l.EndsWith("(frozen)", StringComparison.Ordinal));
        // Every index is valid.
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM pg_index WHERE indrelid = 'typed_rows'::regclass AND NOT (indisvalid AND indisready)"));

        // The stream applies through the rebuilt indexes: updates (of the unique key too), deletes and inserts.
        await production.ExecuteAsync("""
            UPDATE typed_rows SET code = code || '-u', amount = amount + 1 WHERE id % 1000 = 5;
            DELETE FROM typed_rows WHERE id % 997 = 0 AND id > 100;
            INSERT INTO typed_rows (id, code, flag, seen) SELECT g, 'late-' || g, true, now() FROM generate_series(50001, 50500) g;
            """);
        await production.SwitchSegmentAndWaitArchivedAsync();
        await engine.RunCycleAsync(CancellationToken.None);
        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM typed_rows WHERE lower(code) = 'late-50200'"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
    }

    [Fact]
    public async Task An_index_whose_build_outlasts_the_connections_command_timeout_is_built_all_the_same()
    {
        await using var production = await ProductionCluster.StartAsync("slow-index-boot");
        await using var local = await LocalCluster.StartAsync("slow-index-boot");
        const string table = "CREATE TABLE slow_keys (id int PRIMARY KEY, v text NOT NULL)";
        await production.ExecuteAsync(table + "; INSERT INTO slow_keys SELECT g, 'Key ' || g FROM generate_series(1, 6000) g");
        // Each key costs at least 1 ms to compute, so building the index over the 6,000 copied rows takes 6 s or more: longer
        // than the 3 s this test's local connections allow a command (Npgsql's default, 30 s, is what a big table outlasts).
        await local.ExecuteAsync(table + """
            ;
            CREATE FUNCTION slow_key(text) RETURNS text IMMUTABLE LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.001); RETURN lower($1); END $$;
            CREATE INDEX slow_keys_by_key ON slow_keys (slow_key(v));
            """);
        await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);

        (await EngineSetup.LocalAsync(local, "public.slow_keys")).Dispose();
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString + ";Command Timeout=3");
        var progress = new ProgressRecorder();
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource, progress);
        await production.SwitchSegmentAndWaitArchivedAsync();
        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.True(first.TablesBootstrapped.SequenceEqual(["public.slow_keys"]), string.Join("\n", progress.Lines) + first.Bootstrap?.Message);

        const string checksum = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM slow_keys t";
        Assert.Equal(await production.QueryScalarAsync<string>(checksum), await local.QueryScalarAsync<string>(checksum));
        Assert.Contains(progress.Lines, l => l.StartsWith("bootstrapped public.slow_keys: 6000 rows copied", StringComparison.Ordinal)
            && l.Contains(", then 2 index(es) built in ", StringComparison.Ordinal));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM pg_index WHERE indrelid = 'slow_keys'::regclass AND NOT (indisvalid AND indisready)"));
        Assert.Equal(1L, await local.QueryScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE indexname = 'slow_keys_by_key'"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
    }
}
