using DataSync.Wal.Catalog;
using DataSync.Wal.Tests.Values;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Wal.Tests.Catalog;

/// <summary>The catalog SQL run against a live 18.1 server, and what the builder makes of it.</summary>
[Trait("Category", "Server")]
public sealed class CatalogQueriesTests(AllTypesServerFixture fixture) : IClassFixture<AllTypesServerFixture>
{
    [Fact]
    public async Task Table_descriptor_matches_the_servers_relations()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "all_types");
        var table = Assert.Single(snapshot.Tables);

        Assert.Equal(("public", "all_types"), (table.Schema, table.Name));
        Assert.Equal(uint.Parse(await Scalar(connection, "SELECT 'all_types'::regclass::oid"), System.Globalization.CultureInfo.InvariantCulture), table.RelationOid);
        Assert.Equal(await Scalar(connection, "SELECT pg_relation_filenode('all_types')"), table.RelFileNode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(await Scalar(connection, "SELECT pg_relation_filenode(reltoastrelid) FROM pg_class WHERE oid = 'all_types'::regclass"),
            table.ToastRelFileNode.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(await Scalar(connection, "SELECT oid FROM pg_database WHERE datname = current_database()"),
            table.DatabaseOid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1663u, table.TablespaceOid);
        Assert.Equal('d', table.ReplicaIdentity);
        Assert.Equal([(short)1], table.KeyAttNums);
        Assert.Equal(137, table.Columns.Count);
        Assert.Equal(Enumerable.Range(1, 137).Select(i => (short)i), table.Columns.Select(c => c.AttNum));

        var registry = snapshot.CreateTypeRegistry();
        var mood = registry.Get(table.Columns.Single(c => c.Name == "c_enum").TypeOid);
        Assert.True(mood.IsEnum);
        Assert.Equal(["sad", "ok", "happy", "ünïcödé label"], snapshot.EnumLabels.Where(e => e.TypeOid == mood.Oid).OrderBy(e => e.SortOrder).Select(e => e.Label));
        var domainArray = registry.Get(table.Columns.Single(c => c.Name == "a_domain").TypeOid);
        Assert.True(domainArray.IsArray);
        var domain = registry.Get(domainArray.ElementOid);
        Assert.True(domain.IsDomain);
        Assert.Equal(23u, domain.BaseTypeOid);
        Assert.All(table.Columns, c => Assert.Null(SupportedTypes.WhyUnsupported(c.TypeOid, registry)));
    }

    [Fact]
    public async Task Snapshot_survives_a_json_round_trip()
    {
        await using var connection = await fixture.OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS with_missing (id int PRIMARY KEY);
            INSERT INTO with_missing VALUES (1) ON CONFLICT DO NOTHING;
            ALTER TABLE with_missing ADD COLUMN IF NOT EXISTS m int DEFAULT 42, ADD COLUMN IF NOT EXISTS n text DEFAULT 'x';
            """);
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "all_types", "with_missing");
        Assert.Equal(2, snapshot.Tables.Count);

        var json = CatalogJson.Serialize(snapshot);
        var back = CatalogJson.Deserialize(json);

        Assert.Equal(json, CatalogJson.Serialize(back));
        Assert.DoesNotContain("copiedColumns", json, StringComparison.Ordinal);
        Assert.Equal(snapshot.Types, back.Types);
        Assert.Equal(snapshot.EnumLabels, back.EnumLabels);
        var m = back.Tables.Single(t => t.Name == "with_missing").Columns.Single(c => c.Name == "m");
        Assert.True(m.HasMissing);
        Assert.Equal(new byte[] { 0, 0, 0, 42 }, m.MissingValue);
        Assert.Equal("x"u8.ToArray(), back.Tables.Single(t => t.Name == "with_missing").Columns.Single(c => c.Name == "n").MissingValue);
        Assert.Equal(snapshot.Tables[0].Columns.Select(c => c with { MissingValue = null }), back.Tables[0].Columns.Select(c => c with { MissingValue = null }));
    }

    [Fact]
    public async Task Built_in_layouts_in_the_supported_list_match_pg_type()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT oid, typname::text, typlen, typalign::text FROM pg_type WHERE oid = ANY($1::oid[])", connection);
        command.Parameters.AddWithValue(SupportedTypes.Types.Keys.Select(k => (long)k).ToArray());
        var seen = 0;
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var supported = SupportedTypes.Types[reader.GetFieldValue<uint>(0)];
            Assert.Equal(reader.GetString(1), supported.Name);
            Assert.Equal(reader.GetInt16(2), supported.Length);
            Assert.Equal(reader.GetString(3)[0], supported.Alignment);
            seen++;
        }

        Assert.Equal(SupportedTypes.Types.Count, seen);
    }

    [Fact]
    public async Task Unsupported_column_types_are_refused_with_the_reason()
    {
        await using var connection = await fixture.OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, """
            CREATE EXTENSION isn;
            CREATE TYPE pair AS (a int, b aclitem);
            CREATE DOMAIN pairs AS pair[];
            CREATE TYPE pairrange AS RANGE (subtype = pair);
            CREATE TYPE coded AS (a int, e ean13);
            CREATE TABLE odd (id int PRIMARY KEY, p pair, r pairrange, pt aclitem, ps pairs, e ean13, ce coded);
            """);
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "odd");
        var table = Assert.Single(snapshot.Tables);
        var registry = snapshot.CreateTypeRegistry();
        string Reason(string column) => SupportedTypes.WhyUnsupported(table.Columns.Single(c => c.Name == column).TypeOid, registry) ?? "";

        Assert.Equal("composite type public.pair, attribute b: type pg_catalog.aclitem is not supported", Reason("p"));
        Assert.Contains("range type public.pairrange: composite type public.pair", Reason("r"), StringComparison.Ordinal);
        Assert.Contains("pg_catalog.aclitem", Reason("pt"), StringComparison.Ordinal);
        Assert.Contains("domain public.pairs", Reason("ps"), StringComparison.Ordinal);
        // An isn column travels as text; inside a composite it cannot.
        Assert.Equal("", Reason("e"));
        Assert.Equal("composite type public.coded, attribute e: type public.ean13 has no binary send and receive functions: its values are carried " +
            "as text, which works for a column (or an array or domain over the type) but not inside a composite", Reason("ce"));
        var error = Assert.Throws<UnsupportedTypeException>(() => new RowDecoder(table, new ValueConverter(registry)));
        Assert.Contains("public.odd, column p", error.Message, StringComparison.Ordinal);
    }

    private static async Task<string> Scalar(NpgsqlConnection connection, string sql) => await ServerTupleSource.ScalarTextAsync(connection, sql);
}
