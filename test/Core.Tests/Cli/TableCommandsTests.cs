using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>One local cluster and configuration file shared by the table-command tests; each test uses its own tables.</summary>
public sealed class LocalDatabaseFixture : IAsyncLifetime
{
    public LocalCluster Local { get; private set; } = null!;
    public string ConfigPath { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Local = await LocalCluster.StartAsync("cli-tables");
        ConfigPath = await TestConfig.WriteAsync(Local);
    }

    public async Task DisposeAsync() => await Local.DisposeAsync();
}

public sealed class TableCommandsTests(LocalDatabaseFixture fixture) : IClassFixture<LocalDatabaseFixture>
{
    private Task<CliRunner.Result> Run(params string[] args) => CliRunner.RunAsync(fixture.ConfigPath, args);

    private async Task<List<string>> ListedAsync(string like)
    {
        await using var connection = await fixture.Local.Server.OpenAsync(EmbeddedLocal.Database);
        await using var command = new Npgsql.NpgsqlCommand("SELECT table_name || '|' || coalesce(creator, '') FROM tables_to_sync WHERE table_name LIKE $1 ORDER BY table_name", connection);
        command.Parameters.AddWithValue(like);
        var result = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) result.Add(reader.GetString(0));
        return result;
    }

    [Fact]
    public async Task Add_tables_accepts_comma_and_space_separated_lists()
    {
        await fixture.Local.ExecuteAsync("""
            CREATE SCHEMA IF NOT EXISTS sales;
            CREATE TABLE l1_a (id int PRIMARY KEY); CREATE TABLE l1_b (id int PRIMARY KEY);
            CREATE TABLE l1_c (id int PRIMARY KEY); CREATE TABLE sales.l1_d (id int PRIMARY KEY, v text);
            """);

        var first = await Run("add-tables", "public.l1_a, l1_b");
        Assert.Equal(0, first.ExitCode);
        Assert.Contains("added public.l1_a", first.Out);
        Assert.Contains("added public.l1_b", first.Out);

        var second = await Run("add-tables", "l1_a,l1_c", "sales.L1_D");
        Assert.Equal(0, second.ExitCode);
        Assert.Contains("public.l1_a is already synced; nothing to do", second.Out);
        Assert.Contains("added public.l1_c", second.Out);
        Assert.Contains("added sales.l1_d", second.Out);

        var creator = Environment.UserName;
        Assert.Equal([$"public.l1_a|{creator}", $"public.l1_b|{creator}", $"public.l1_c|{creator}"], await ListedAsync("public.l1_%"));
        Assert.Equal([$"sales.l1_d|{creator}"], await ListedAsync("sales.l1_%"));
    }

    [Fact]
    public async Task Add_tables_refuses_with_the_reason_and_adds_nothing()
    {
        await fixture.Local.ExecuteAsync("""
            CREATE TABLE l2_ok (id int PRIMARY KEY);
            CREATE TABLE l2_nokey (id int, v text);
            CREATE TABLE l2_acl (id int PRIMARY KEY, p aclitem);
            CREATE VIEW l2_view AS SELECT 1 AS x;
            CREATE UNLOGGED TABLE l2_unlogged (id int PRIMARY KEY);
            CREATE TABLE l2_full (id int, v text); ALTER TABLE l2_full REPLICA IDENTITY FULL;
            CREATE TYPE l2_badpair AS (a int, p aclitem);
            CREATE TABLE l2_composite_col (id int PRIMARY KEY, c l2_badpair);
            CREATE EXTENSION IF NOT EXISTS isn;
            CREATE TYPE l2_isn_pair AS (a int, e ean13);
            CREATE TABLE l2_isn (id int PRIMARY KEY, c l2_isn_pair);
            CREATE TYPE l2_isn_range AS RANGE (subtype = isbn13);
            CREATE TABLE l2_isn_range_col (id int PRIMARY KEY, r l2_isn_range);
            """);

        var missing = await Run("add-tables", "l2_ok", "l2_missing");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("refused public.l2_missing: no such table in the local database", missing.Error);
        Assert.Contains("refused public.l2_ok: not added because another table", missing.Error);

        // The name is right but the schema is not: the refusal names the schemas that have it.
        await fixture.Local.ExecuteAsync("CREATE SCHEMA IF NOT EXISTS billing; CREATE TABLE billing.l2_invoices (id int PRIMARY KEY)");
        var elsewhere = await Run("add-tables", "l2_invoices");
        Assert.Equal(1, elsewhere.ExitCode);
        Assert.Contains("refused public.l2_invoices: no such table in schema public of the local database 'datasync_local', but billing.l2_invoices exists: " +
            "name the schema (datasync add-tables billing.l2_invoices)", elsewhere.Error);

        var noKey = await Run("add-tables", "l2_nokey");
        Assert.Equal(1, noKey.ExitCode);
        Assert.Contains("refused public.l2_nokey: has no primary key or replica identity index", noKey.Error);

        var acl = await Run("add-tables", "l2_acl");
        Assert.Equal(1, acl.ExitCode);
        Assert.Contains("column \"p\" has type aclitem, which the decoder does not support", acl.Error);

        var composite = await Run("add-tables", "l2_composite_col");
        Assert.Contains("column \"c\" has type l2_badpair, which the decoder does not support (composite type public.l2_badpair, attribute p: " +
            "type pg_catalog.aclitem is not supported;", composite.Error);

        // isn values travel as text, cast on the local server: as a column, not inside a composite or a range.
        var isn = await Run("add-tables", "l2_isn");
        Assert.Equal(1, isn.ExitCode);
        Assert.Contains("column \"c\" has type l2_isn_pair, which the decoder does not support (composite type public.l2_isn_pair, attribute e: " +
            "type public.ean13 has no binary send and receive functions: its values are carried as text, which works for a column " +
            "(or an array or domain over the type) but not inside a composite", isn.Error);
        var isnRange = await Run("add-tables", "l2_isn_range_col");
        Assert.Equal(1, isnRange.ExitCode);
        Assert.Contains("(range type public.l2_isn_range: type public.isbn13 has no binary send and receive functions: its values are carried as text, " +
            "which works for a column (or an array or domain over the type) but not inside a range", isnRange.Error);

        Assert.Contains("is a view", (await Run("add-tables", "l2_view")).Error);
        Assert.Contains("refused public.l2_unlogged: is an unlogged table: its changes never reach the WAL", (await Run("add-tables", "l2_unlogged")).Error);
        Assert.Contains("refused public.l2_full: has REPLICA IDENTITY FULL and no primary key", (await Run("add-tables", "l2_full")).Error);
        Assert.Empty(await ListedAsync("public.l2_%"));
    }

    [Fact]
    public async Task Supported_types_enums_arrays_and_domains_are_accepted()
    {
        await fixture.Local.ExecuteAsync("""
            CREATE TYPE l3_mood AS ENUM ('sad', 'ok');
            CREATE DOMAIN l3_positive AS numeric CHECK (VALUE > 0);
            CREATE DOMAIN l3_codes AS text[];
            CREATE TYPE l3_moods AS RANGE (subtype = l3_mood);
            CREATE TYPE l3_pair AS (a int, b text, c l3_mood[]);
            CREATE TYPE l3_nest AS (p l3_pair, q l3_pair[]);
            CREATE DOMAIN l3_positive_pair AS l3_pair CHECK ((VALUE).a > 0);
            CREATE TABLE l3_row (x int);
            CREATE EXTENSION IF NOT EXISTS citext;
            CREATE EXTENSION IF NOT EXISTS hstore;
            CREATE EXTENSION IF NOT EXISTS ltree;
            CREATE EXTENSION IF NOT EXISTS cube;
            CREATE EXTENSION IF NOT EXISTS isn;
            CREATE DOMAIN l3_book AS isbn;
            CREATE TABLE l3_all (
                id bigint PRIMARY KEY, a bool, b int2, c int4, d oid, e float4, f float8, g numeric(10,2), h text, i varchar(5), j char(3),
                k name, l bytea, m uuid, n date, o time, p timetz, q timestamp, r timestamptz, s interval, t json, u jsonb, v inet, w cidr,
                x macaddr, y macaddr8, z money, aa bit(3), ab varbit, ac l3_mood, ad l3_mood[], ae int4[][], af l3_positive, ag l3_codes, ah l3_positive[],
                ai tstzrange, aj int4multirange, ak l3_moods, al tsvector, am tsquery[],
                an point, ao lseg, ap path, aq box, ar polygon, at line, au circle, av circle[],
                aw xml, ax regclass, ay regtype[], az pg_snapshot, ba txid_snapshot,
                bb xid, bc xid8, bd cid, be tid, bf xid8[], bg tid[], bh jsonpath, bi jsonpath[],
                bj l3_pair, bk l3_nest, bl l3_nest[], bm l3_positive_pair, bn l3_row,
                bo citext, bp citext[], bq hstore, br hstore[], bs ltree, bt ltree[], bu cube, bv cube[], bw lquery, bx lquery[], by ltxtquery,
                bz ean13, ca isbn13, cb ismn13, cc issn13, cd isbn, ce ismn, cf issn, cg upc, ch isbn13[], ci l3_book, cj l3_book[]);
            """);
        var result = await Run("add-tables", "l3_all");
        Assert.True(result.ExitCode == 0, result.Error);
    }

    /// <summary>PostGIS's geometry and geography are accepted when the local database has the extension postgis (here the
    /// test stand-in, since the embedded PostgreSQL has no PostGIS); a type of the same name that no extension postgis
    /// owns is refused, saying so.</summary>
    [Fact]
    public async Task Postgis_types_are_accepted_only_when_the_extension_postgis_owns_them()
    {
        await fixture.Local.ExecuteAsync(PostgisStandIn.CreateSql + """
            CREATE DOMAIN l4_place AS geometry;
            CREATE TABLE l4_gis (id int PRIMARY KEY, g geometry, gg geography, ga geometry[], gd l4_place);
            CREATE SCHEMA l4_nogis;
            CREATE TYPE l4_nogis.geometry;
            CREATE FUNCTION l4_nogis.geometry_in(cstring) RETURNS l4_nogis.geometry AS 'byteain' LANGUAGE internal IMMUTABLE STRICT;
            CREATE FUNCTION l4_nogis.geometry_out(l4_nogis.geometry) RETURNS cstring AS 'byteaout' LANGUAGE internal IMMUTABLE STRICT;
            CREATE TYPE l4_nogis.geometry (INPUT = l4_nogis.geometry_in, OUTPUT = l4_nogis.geometry_out, INTERNALLENGTH = VARIABLE);
            CREATE TABLE l4_nogis.places (id int PRIMARY KEY, g l4_nogis.geometry);
            """);

        var accepted = await Run("add-tables", "l4_gis");
        Assert.True(accepted.ExitCode == 0, accepted.Error);
        Assert.Contains("added public.l4_gis", accepted.Out);

        var refused = await Run("add-tables", "l4_nogis.places");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("refused l4_nogis.places: column \"g\" has type l4_nogis.geometry, which the decoder does not support (type l4_nogis.geometry " +
            "is not PostGIS's: no extension postgis owns it (create the extension postgis in this database and give the column its type);", refused.Error);
        Assert.Empty(await ListedAsync("l4_nogis.%"));
    }

    [Fact]
    public async Task Hostile_names_are_harmless()
    {
        await fixture.Local.ExecuteAsync("""
            CREATE TABLE l4_victim (id int PRIMARY KEY);
            CREATE TABLE "l4_x""; DROP TABLE l4_victim; --" (id int PRIMARY KEY);
            """);

        var injected = await Run("add-tables", "l4_victim; DROP TABLE l4_victim");
        Assert.Equal(2, injected.ExitCode);
        Assert.Contains("unexpected ';'", injected.Error);

        var quoted = await Run("add-tables", "\"l4_x\"\"; DROP TABLE l4_victim; --\"");
        Assert.True(quoted.ExitCode == 0, quoted.Error);
        Assert.Equal(1, await fixture.Local.QueryScalarAsync<int>("SELECT count(*)::int FROM pg_class WHERE relname = 'l4_victim'"));
        Assert.Single(await ListedAsync("public.\"l4_x%"));

        var removed = await Run("remove-tables", "\"l4_x\"\"; DROP TABLE l4_victim; --\"");
        Assert.Equal(0, removed.ExitCode);
        Assert.Empty(await ListedAsync("public.\"l4_x%"));
        Assert.Equal(1, await fixture.Local.QueryScalarAsync<int>("SELECT count(*)::int FROM pg_class WHERE relname = 'l4_victim'"));
    }

    [Fact]
    public async Task Quoted_mixed_case_names_are_taken_as_written()
    {
        await fixture.Local.ExecuteAsync("""
            CREATE SCHEMA IF NOT EXISTS "Sales";
            CREATE TABLE "Sales"."Order Lines" (id int PRIMARY KEY);
            CREATE TABLE "Sales"."l7 Other" (id int PRIMARY KEY);
            """);

        var added = await Run("add-tables", "\"Sales\".\"Order Lines\"");
        Assert.True(added.ExitCode == 0, added.Error);
        Assert.Contains("added \"Sales\".\"Order Lines\"", added.Out);

        // Unquoted, the names fold to lower case and name no table.
        var folded = await Run("add-tables", "Sales.l7_other");
        Assert.Equal(1, folded.ExitCode);
        Assert.Contains("refused sales.l7_other: no such table", folded.Error);

        var removed = await Run("remove-tables", "\"Sales\".\"Order Lines\"");
        Assert.Equal(0, removed.ExitCode);
        Assert.Empty(await ListedAsync("\"Sales\".%"));
    }

    [Fact]
    public async Task Remove_tables_keeps_local_rows_and_fails_on_unknown_tables()
    {
        await fixture.Local.ExecuteAsync("CREATE TABLE l5_t (id int PRIMARY KEY); INSERT INTO l5_t VALUES (1), (2);");
        Assert.Equal(0, (await Run("add-tables", "l5_t")).ExitCode);

        var removed = await Run("remove-tables", "l5_t, l5_never");
        Assert.Equal(1, removed.ExitCode);
        Assert.Contains("removed public.l5_t (its local data stays)", removed.Out);
        Assert.Contains("public.l5_never is not in the sync list (datasync status --verbose lists the synced tables)", removed.Out + removed.Error);
        Assert.Empty(await ListedAsync("public.l5_%"));
        Assert.Equal(2L, await fixture.Local.QueryScalarAsync<long>("SELECT count(*) FROM l5_t"));
        Assert.Equal(0L, await fixture.Local.QueryScalarAsync<long>("SELECT count(*) FROM datasync_table_state WHERE table_name = 'public.l5_t'"));
    }

    [Fact]
    public async Task Resync_of_an_unlisted_table_fails_and_of_a_listed_one_is_recorded()
    {
        await fixture.Local.ExecuteAsync("CREATE TABLE l6_t (id int PRIMARY KEY);");
        var unlisted = await Run("resync", "l6_t");
        Assert.Equal(1, unlisted.ExitCode);
        Assert.Contains("public.l6_t is not in the sync list", unlisted.Error);

        Assert.Equal(0, (await Run("add-tables", "l6_t")).ExitCode);
        var listed = await Run("resync", "l6_t");
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains("no daemon is running, so it runs when the daemon starts", listed.Out);
        Assert.Equal("resync-requested", await fixture.Local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.l6_t'"));
    }

    [Fact]
    public async Task Resync_wait_without_a_daemon_records_the_resync_and_fails_as_there_is_nothing_to_follow()
    {
        await fixture.Local.ExecuteAsync("CREATE TABLE l6_w (id int PRIMARY KEY);");
        Assert.Equal(0, (await Run("add-tables", "l6_w")).ExitCode);
        var waited = await Run("resync", "l6_w", "--wait");
        Assert.Equal(1, waited.ExitCode);
        Assert.Equal("resync of public.l6_w requested; no daemon is running, so it runs when the daemon starts\n", waited.Out);
        Assert.Equal("datasync: --wait follows a resync in the running daemon, and none runs: start it with 'datasync start' (the resync then runs) " +
            "and follow it with 'datasync status --verbose'\n", waited.Error);
        Assert.Equal("resync-requested", await fixture.Local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state WHERE table_name = 'public.l6_w'"));
    }

    [Fact]
    public async Task Clear_empties_every_synced_table_and_pauses_it()
    {
        // Its own database, so the other tests' tables are not cleared under them.
        await fixture.Local.Server.ExecuteAsync("CREATE DATABASE clear_test");
        var config = Path.Combine(fixture.Local.Root, "clear.toml");
        await File.WriteAllTextAsync(config, (await File.ReadAllTextAsync(fixture.ConfigPath)).Replace(EmbeddedLocal.Database, "clear_test"));
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await fixture.Local.Server.ExecuteAsync("""
            CREATE TABLE parent (id int PRIMARY KEY);
            CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id));
            CREATE TABLE untouched (id int PRIMARY KEY);
            INSERT INTO parent VALUES (1), (2); INSERT INTO child VALUES (10, 1); INSERT INTO untouched VALUES (5);
            """, "clear_test");
        Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "parent", "child")).ExitCode);

        var result = await CliRunner.RunAsync(config, "clear");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("cleared public.parent", result.Out);
        Assert.Contains("cleared public.child", result.Out);
        Assert.Equal(0L, await fixture.Local.Server.QueryScalarAsync<long>("SELECT (SELECT count(*) FROM parent) + (SELECT count(*) FROM child)", "clear_test"));
        Assert.Equal(1L, await fixture.Local.Server.QueryScalarAsync<long>("SELECT count(*) FROM untouched", "clear_test"));
        Assert.Equal(2L, await fixture.Local.Server.QueryScalarAsync<long>("SELECT count(*) FROM datasync_table_state WHERE state = 'cleared'", "clear_test"));
        Assert.Equal(2L, await fixture.Local.Server.QueryScalarAsync<long>("SELECT count(*) FROM tables_to_sync", "clear_test"));
        Assert.Equal(2L, await fixture.Local.Server.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'CLEARED'", "clear_test"));
    }

    [Fact]
    public async Task Status_prints_the_five_spec_lines_first()
    {
        var result = await Run("status");
        Assert.Equal(0, result.ExitCode);
        var lines = result.Out.Split('\n');
        Assert.Equal("status: not-started", lines[0]);
        Assert.Equal("sync frequency: 600", lines[1]);
        Assert.Equal("start time: ", lines[2]);
        Assert.Equal("records synced: 0", lines[3]);
        Assert.Equal("errors: 0", lines[4]);
        Assert.StartsWith("uptime:", lines[5]);
        Assert.StartsWith("last successful sync:", lines[6]);
    }
}
