using System.Buffers.Binary;
using DataSync.TestRig;
using DataSync.TestRig.Workloads;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// The differential oracle for composite and extension types (<see cref="MoreTypesTable"/>): tuples taken raw
/// from a live 18.1 server (pages and WAL) decode into exactly the bytes of the server's own COPY BINARY, field by
/// field, and the rows loaded back hash like the source's. The composites' values were stored both before and after
/// their types gained and lost attributes.
/// </summary>
[Trait("Category", "Server")]
public sealed class MoreTypesDifferentialTests(MoreTypesServerFixture fixture) : IClassFixture<MoreTypesServerFixture>
{
    private const string Table = MoreTypesTable.Name;
    private const string RowsHash = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM {0} AS t";

    /// <summary>From pages, with the catalog as the daemon keeps it: persisted as JSON and read back (composites' attributes
    /// and types' extensions included).</summary>
    [Fact]
    public async Task Page_tuples_decode_to_the_servers_copy_bytes_and_reload_identically()
    {
        await using var connection = await fixture.OpenAsync();
        var restored = CatalogJson.Deserialize(CatalogJson.Serialize(await NpgsqlCatalogReader.ReadAsync(connection, "public." + Table)));
        var table = Assert.Single(restored.Tables);
        var converter = restored.CreateValueConverter();
        var toast = new ToastChunkStore();
        foreach (var tuple in await ServerTupleSource.PageTuplesAsync(connection, $"pg_toast.pg_toast_{table.RelationOid}"))
            toast.AddPageTuple(table.ToastRelationOid, tuple);
        Assert.True(toast.ValueCount >= 3, "the data set should have TOASTed several values");

        var decoder = new RowDecoder(table, converter);
        var rows = (await ServerTupleSource.PageTuplesAsync(connection, Table)).Select(t => decoder.DecodePage(t, toast)).ToList();
        await AssertMatchesServerAsync(connection, table, rows, "more_types_from_pages");
    }

    [Fact]
    public async Task Wal_tuples_decode_to_the_servers_copy_bytes_and_reload_identically()
    {
        await using var connection = await fixture.OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        var toast = new ToastChunkStore();
        var decoder = new RowDecoder(table, converter);
        var rows = new List<DecodedRow>();
        foreach (var block in await ServerTupleSource.WalBlocksAsync(connection, fixture.DataStartLsn, fixture.DataEndLsn, table.RelFileNode, table.ToastRelFileNode))
        {
            Assert.StartsWith("INSERT", block.RecordType);
            if (block.RelFileNode == table.ToastRelFileNode) toast.AddWalTuple(table.ToastRelationOid, block.Data);
            else rows.Add(decoder.DecodeWal(block.Data, toast));
        }

        await AssertMatchesServerAsync(connection, table, rows, "more_types_from_wal");
    }

    /// <summary>Real tuples of <see cref="MoreTypesTable"/> with bytes flipped at random: decoding either succeeds or fails
    /// with one of the decoder's typed errors, never with an out-of-range access or a crash.</summary>
    [Fact]
    public async Task Corrupt_tuples_give_typed_errors_only()
    {
        await using var connection = await fixture.OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        var decoder = new RowDecoder(table, converter);
        var tuples = (await ServerTupleSource.PageTuplesAsync(connection, Table)).Where(t => t.Length < 4000).ToList();
        var random = new Random(int.Parse(Environment.GetEnvironmentVariable("FUZZ_SEED") ?? "20261206", System.Globalization.CultureInfo.InvariantCulture));
        var typedErrors = 0;
        for (var round = 0; round < 5_000; round++)
        {
            var tuple = tuples[random.Next(tuples.Count)].ToArray();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                tuple[random.Next(22, tuple.Length)] = (byte)random.Next(256);
            if (random.Next(10) == 0) tuple = tuple[..random.Next(23, tuple.Length)];
            try
            {
                decoder.DecodePage(tuple, null);
            }
            catch (Exception e) when (e is DataSync.Wal.Tuples.TupleFormatException or DatumFormatException or VarlenaFormatException)
            {
                typedErrors++;
            }
        }

        Assert.True(typedErrors > 250, $"only {typedErrors} corruptions were detected");
    }

    /// <summary>The catalog carries what the decoder needs: composites with their attributes (the dropped one
    /// included), extension types with their extension's name.</summary>
    [Fact]
    public async Task The_catalog_carries_composite_attributes_and_extension_names()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public." + Table);
        var types = snapshot.Types.ToDictionary(t => t.Name);
        Assert.Equal(["a", "b", "c"], types["pair"].Attributes!.Select(a => a.Name));
        var wide = types["wide"].Attributes!;
        Assert.Equal(13, wide.Count);
        Assert.True(wide[2].IsDropped);
        Assert.Equal(["y", "z"], types["row_shape"].Attributes!.Where(a => !a.IsDropped).Select(a => a.Name));
        Assert.Equal("citext", types["citext"].Extension);
        Assert.Equal("hstore", types["hstore"].Extension);
        Assert.Equal("ltree", types["ltree"].Extension);
        Assert.Equal("cube", types["cube"].Extension);
        Assert.Null(types["pair"].Extension);
        // Types reached only through a composite's attributes are read too.
        Assert.Contains("tstzrange", types.Keys);
        Assert.Contains("jsonb", types.Keys);
    }

    private async Task<(TableDescriptor Table, ValueConverter Converter)> CatalogAsync(NpgsqlConnection connection)
    {
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public." + Table);
        var table = Assert.Single(snapshot.Tables);
        return (table, snapshot.CreateValueConverter());
    }

    /// <summary>
    /// jsonpath is stored as a tree of items and sent as the text the server prints from it: every path of
    /// PostgreSQL's own jsonpath regression test that parses (and a few more) prints exactly as the server prints it.
    /// </summary>
    [Fact]
    public async Task Jsonpath_regression_values_print_as_the_server_prints_them()
    {
        await using var connection = await fixture.OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, "DROP TABLE IF EXISTS jsonpaths; CREATE TABLE jsonpaths (id int PRIMARY KEY, p jsonpath, a jsonpath[])");
        var stored = 0;
        for (var i = 0; i < JsonPathValues.Length; i++)
        {
            await using var command = new NpgsqlCommand("INSERT INTO jsonpaths VALUES ($1, $2::jsonpath, ARRAY[$2::jsonpath, NULL])", connection);
            command.Parameters.AddWithValue(i + 1);
            command.Parameters.AddWithValue(JsonPathValues[i]);
            try
            {
                await command.ExecuteNonQueryAsync();
                stored++;
            }
            catch (PostgresException e) when (e.SqlState[..2] is "22" or "42" or "0A")
            {
                // Not a valid path (the regression test checks these are refused); nothing stored.
            }
        }

        Assert.True(stored >= 198, $"only {stored} of {JsonPathValues.Length} paths parsed");
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public.jsonpaths");
        var table = Assert.Single(snapshot.Tables);
        var decoder = new RowDecoder(table, snapshot.CreateValueConverter());
        var rows = (await ServerTupleSource.PageTuplesAsync(connection, "jsonpaths")).Select(t => decoder.DecodePage(t, null)).ToList();
        await AssertMatchesServerAsync(connection, table, rows, "jsonpaths_copy", "jsonpaths", stored);
    }

    /// <summary>lquery is sent as the text the server prints from its stored levels: the queries of contrib/ltree's own
    /// regression test (and a few more) print exactly as the server prints them.</summary>
    [Fact]
    public async Task Lquery_values_print_as_the_server_prints_them()
    {
        await using var connection = await fixture.OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, "DROP TABLE IF EXISTS lqueries; CREATE TABLE lqueries (id int PRIMARY KEY, q lquery)");
        var stored = 0;
        for (var i = 0; i < LqueryValues.Length; i++)
        {
            await using var command = new NpgsqlCommand("INSERT INTO lqueries VALUES ($1, $2::lquery)", connection);
            command.Parameters.AddWithValue(i + 1);
            command.Parameters.AddWithValue(LqueryValues[i]);
            try
            {
                await command.ExecuteNonQueryAsync();
                stored++;
            }
            catch (PostgresException e) when (e.SqlState[..2] is "22" or "42" or "54")
            {
                // Not a valid query (the regression test checks these are refused); nothing stored.
            }
        }

        Assert.True(stored >= 40, $"only {stored} of {LqueryValues.Length} queries parsed");
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public.lqueries");
        var table = Assert.Single(snapshot.Tables);
        var decoder = new RowDecoder(table, snapshot.CreateValueConverter());
        var rows = (await ServerTupleSource.PageTuplesAsync(connection, "lqueries")).Select(t => decoder.DecodePage(t, null)).ToList();
        await AssertMatchesServerAsync(connection, table, rows, "lqueries_copy", "lqueries", stored);
    }

    /// <summary>ltxtquery is sent as the infix text the server prints from its stored prefix-order items: the queries of
    /// contrib/ltree's regression test (and a few more) print exactly as the server prints them.</summary>
    [Fact]
    public async Task Ltxtquery_values_print_as_the_server_prints_them()
    {
        await using var connection = await fixture.OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, "DROP TABLE IF EXISTS ltxtqueries; CREATE TABLE ltxtqueries (id int PRIMARY KEY, q ltxtquery, a ltxtquery[])");
        var stored = 0;
        for (var i = 0; i < LtxtqueryValues.Length; i++)
        {
            await using var command = new NpgsqlCommand("INSERT INTO ltxtqueries VALUES ($1, $2::ltxtquery, ARRAY[$2::ltxtquery, NULL])", connection);
            command.Parameters.AddWithValue(i + 1);
            command.Parameters.AddWithValue(LtxtqueryValues[i]);
            try
            {
                await command.ExecuteNonQueryAsync();
                stored++;
            }
            catch (PostgresException e) when (e.SqlState[..2] is "22" or "42" or "54")
            {
                // Not a valid query; nothing stored.
            }
        }

        Assert.True(stored >= 20, $"only {stored} of {LtxtqueryValues.Length} queries parsed");
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public.ltxtqueries");
        var table = Assert.Single(snapshot.Tables);
        var decoder = new RowDecoder(table, snapshot.CreateValueConverter());
        var rows = (await ServerTupleSource.PageTuplesAsync(connection, "ltxtqueries")).Select(t => decoder.DecodePage(t, null)).ToList();
        await AssertMatchesServerAsync(connection, table, rows, "ltxtqueries_copy", "ltxtqueries", stored);
    }

    private static readonly string[] LtxtqueryValues =
    [
        "Science", "Science & Astronomy", "Astro* & !pictures@", "Astro* & !pictures@ | Stars", "Science | Astronomy & !Stars",
        "(Science | Astronomy) & !Stars", "!(a | b)", "!(a & b)", "!!a", "!(!a | !b)", "a | b | c", "a & b & c", "(a | b) & (c | d)",
        "a | (b & c)", "a & (b | c)", "((a))", "a | (b | (c | d))", "((a | b) | c) | d", "a% & b@ & c* & d%@*", "tree & aWdf@*",
        "123 & 4_5-6", "!tree & aWdf@*", "tree & aw_qw%*", "ltree.asd", "a b", "", "&", "a &", "(a", "a)",
    ];

    private static readonly string[] LqueryValues =
    [
        "1.2.3", "1.*{,2}", "*.1.2", "1.*", "*.1", "1.*{1}.2", "1.*{0}", "1.*{2,}.3", "1.!2", "!1.!2", "!1|2", "1|2|3.4",
        "*", "**", "*.*", "*{2}", "*{2,}", "*{,2}", "*{2,3}", "*{0,}", "*{,}", "*{3,3}", "*{65535}", "*{0,65535}", "*{,65535}", "*{65536}",
        "a{1}", "a{,}", "a{1,}", "a{,2}", "a{2,3}", "a{3,2}", "a{0}", "a{65535}", "!a{1,2}", "a|b{2}", "a*|b%|c@{0,1}", "a*@%",
        "a@*%", "a%*", "!a|b|c%@*", "*.!foo.*", "Top.*.Astronomy", "*.Astronomy.*", "Top.*{1}.Astronomy", "*.!Astronomy.*",
        "Top.Collections.*.Astronomy.*", "*.Astr*", "*.Astr*.*", "*.astro*@.*", "*.Astro*%.*", "23.*{1}.1|2", "23.*.1|2", "1.*.4|3|2.*{1}",
        "foo.bar.*{2}", "*.foo_bar-baz", "a.b.c.d.e.f.g.h.i.j", "x{,0}", "", ".", "a..b", "!*", "a{", "*{a}", "a%@*%",
    ];

    /// <summary>The paths of src/test/regress/sql/jsonpath.sql, and the item methods PostgreSQL 17 added.</summary>
    private static readonly string[] JsonPathValues = """

        $
        strict $
        lax $
        $.a
        $.a.v
        $.a.*
        $.*[*]
        $.a[*]
        $.a[*][*]
        $[*]
        $[0]
        $[*][0]
        $[*].a
        $[*][0].a.b
        $.a.**.b
        $.a.**{2}.b
        $.a.**{2 to 2}.b
        $.a.**{2 to 5}.b
        $.a.**{0 to 5}.b
        $.a.**{5 to last}.b
        $.a.**{last}.b
        $.a.**{last to 5}.b
        $+1
        $-1
        $--+1
        $.a/+-1
        1 * 2 + 4 % -3 != false
        "\b\f\r\n\t\v\"\'\\"
        '\b\f\r\n\t\v\"\'\\'
        "\x50\u0067\u{53}\u{051}\u{00004C}"
        '\x50\u0067\u{53}\u{051}\u{00004C}'
        $.foo\x50\u0067\u{53}\u{051}\u{00004C}\t\"bar
        $.g ? ($.a == 1)
        $.g ? (@ == 1)
        $.g ? (@.a == 1)
        $.g ? (@.a == 1 || @.a == 4)
        $.g ? (@.a == 1 && @.a == 4)
        $.g ? (@.a == 1 || @.a == 4 && @.b == 7)
        $.g ? (@.a == 1 || !(@.a == 4) && @.b == 7)
        $.g ? (@.a == 1 || !(@.x >= 123 || @.a == 4) && @.b == 7)
        $.g ? (@.x >= @[*]?(@.a > "abc"))
        $.g ? ((@.x >= 123 || @.a == 4) is unknown)
        $.g ? (exists (@.x))
        $.g ? (exists (@.x ? (@ == 14)))
        $.g ? ((@.x >= 123 || @.a == 4) && exists (@.x ? (@ == 14)))
        $.g ? (+@.x >= +-(+@.a + 2))
        $a
        $a.b
        $a[*]
        $.g ? (@.zip == $zip)
        $.a[1,2, 3 to 16]
        $.a[$a + 1, ($b[*]) to -($[0] * 2)]
        $.a[$.a.size() - 3]
        last
        "last"
        $.last
        $ ? (last > 0)
        $[last]
        $[$[0] ? (last > 0)]
        null.type()
        1.type()
        (1).type()
        1.2.type()
        "aaa".type()
        true.type()
        $.double().floor().ceiling().abs()
        $.keyvalue().key
        $.datetime()
        $.datetime("datetime template")
        $.bigint().integer().number().decimal()
        $.boolean()
        $.date()
        $.decimal(4,2)
        $.decimal(12)
        $.string()
        $.time()
        $.time(6)
        $.time_tz()
        $.time_tz(4)
        $.timestamp()
        $.timestamp(2)
        $.timestamp_tz()
        $.timestamp_tz(0)
        $ ? (@ starts with "abc")
        $ ? (@ starts with $var)
        $ ? (@ like_regex "(invalid pattern")
        $ ? (@ like_regex "pattern")
        $ ? (@ like_regex "pattern" flag "")
        $ ? (@ like_regex "pattern" flag "i")
        $ ? (@ like_regex "pattern" flag "is")
        $ ? (@ like_regex "pattern" flag "isim")
        $ ? (@ like_regex "pattern" flag "xsms")
        $ ? (@ like_regex "pattern" flag "q")
        $ ? (@ like_regex "pattern" flag "iq")
        $ ? (@ like_regex "pattern" flag "smixq")
        $ ? (@ like_regex "pattern" flag "a")
        $ < 1
        ($ < 1) || $.a.b <= $x
        @ + 1
        ($).a.b
        ($.a.b).c.d
        ($.a.b + -$.x.y).c.d
        (-+$.a.b).c.d
        1 + ($.a.b + 2).c.d
        1 + ($.a.b > 2).c.d
        ($)
        (($))
        ((($ + 1)).a + ((2)).b ? ((((@ > 1)) || (exists(@.c)))))
        $ ? (@.a < 1)
        $ ? (@.a < -1)
        $ ? (@.a < +1)
        $ ? (@.a < .1)
        $ ? (@.a < -.1)
        $ ? (@.a < +.1)
        $ ? (@.a < 0.1)
        $ ? (@.a < -0.1)
        $ ? (@.a < +0.1)
        $ ? (@.a < 10.1)
        $ ? (@.a < -10.1)
        $ ? (@.a < +10.1)
        $ ? (@.a < 1e1)
        $ ? (@.a < -1e1)
        $ ? (@.a < +1e1)
        $ ? (@.a < .1e1)
        $ ? (@.a < -.1e1)
        $ ? (@.a < +.1e1)
        $ ? (@.a < 0.1e1)
        $ ? (@.a < -0.1e1)
        $ ? (@.a < +0.1e1)
        $ ? (@.a < 10.1e1)
        $ ? (@.a < -10.1e1)
        $ ? (@.a < +10.1e1)
        $ ? (@.a < 1e-1)
        $ ? (@.a < -1e-1)
        $ ? (@.a < +1e-1)
        $ ? (@.a < .1e-1)
        $ ? (@.a < -.1e-1)
        $ ? (@.a < +.1e-1)
        $ ? (@.a < 0.1e-1)
        $ ? (@.a < -0.1e-1)
        $ ? (@.a < +0.1e-1)
        $ ? (@.a < 10.1e-1)
        $ ? (@.a < -10.1e-1)
        $ ? (@.a < +10.1e-1)
        $ ? (@.a < 1e+1)
        $ ? (@.a < -1e+1)
        $ ? (@.a < +1e+1)
        $ ? (@.a < .1e+1)
        $ ? (@.a < -.1e+1)
        $ ? (@.a < +.1e+1)
        $ ? (@.a < 0.1e+1)
        $ ? (@.a < -0.1e+1)
        $ ? (@.a < +0.1e+1)
        $ ? (@.a < 10.1e+1)
        $ ? (@.a < -10.1e+1)
        $ ? (@.a < +10.1e+1)
        0
        00
        0755
        0.0
        0.000
        0.000e1
        0.000e2
        0.000e3
        0.0010
        0.0010e-1
        0.0010e+1
        0.0010e+2
        .001
        .001e1
        1.
        1.e1
        1a
        1e
        1.e
        1.2a
        1.2e
        1.2.e
        (1.2).e
        1e3
        1.e3
        1.e3.e
        1.e3.e4
        1.2e3
        1.2e3a
        1.2.e3
        (1.2).e3
        1..e
        1..e3
        (1.).e
        (1.).e3
        1?(2>3)
        0b100101
        0o273
        0x42F
        0b
        1b
        0b0x
        0o
        7o
        0o0x
        0x
        1x
        0x0y
        1_000_000
        1_2_3
        0x1EEE_FFFF
        0o2_73
        0b10_0101
        1_000.000_005
        1_000.
        .000_005
        1_000.5e0_1
        _100
        100_
        100__000
        1_000_.5
        1_000._5
        1_000.5_
        1_000.5e_1
        $ ? (@ == 12345678901234567890123456789012345678901234567890.12345678901234567890)
        $.""
        $."ünïcödé ☃"
        $ ? (@ == "\u0001\u001f")
        -$.a
        +$.a
        $.a.b.c.d.e.f.g.h[1,2,3 to last].** ? (@ != null).keyvalue().value
        $ ? (@ == true || @ == false || @ == null)
        $[1.5]
        $[-1]
        strict $.a ? (@ like_regex "^\\d+$")
        """.Split('\n');

    private static async Task AssertMatchesServerAsync(NpgsqlConnection connection, TableDescriptor table, List<DecodedRow> rows, string twin,
        string source = Table, int expectedRows = 8)
    {
        Assert.All(rows, r => Assert.False(r.HasUnchangedToast));
        rows.Sort((a, b) => IdOf(a).CompareTo(IdOf(b)));
        var server = await ServerTupleSource.ServerCopyAsync(connection, $"SELECT * FROM {source} ORDER BY id");
        Assert.Equal(server.Count, rows.Count);
        Assert.Equal(expectedRows, rows.Count);

        var mismatches = new List<string>();
        for (var r = 0; r < rows.Count; r++)
        {
            Assert.Equal(server[r].Length, rows[r].FieldCount);
            for (var f = 0; f < rows[r].FieldCount; f++)
            {
                var expected = server[r][f];
                var actual = rows[r].State(f) == FieldState.Null ? null : rows[r].Field(f).ToArray();
                if (expected is null != actual is null || (expected is not null && !expected.AsSpan().SequenceEqual(actual)))
                    mismatches.Add($"id {IdOf(rows[r])}, {table.Columns[rows[r].Columns[f].AttNum - 1].Name}: server {Hex(expected)} ours {Hex(actual)}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));

        await ServerTupleSource.ExecuteAsync(connection, $"DROP TABLE IF EXISTS {twin}; CREATE TABLE {twin} (LIKE {source})");
        var stream = new SendBuffer();
        CopyBinaryFormat.WriteHeader(stream);
        foreach (var row in rows) CopyBinaryFormat.WriteRow(row, stream);
        CopyBinaryFormat.WriteTrailer(stream);
        await ServerTupleSource.CopyInAsync(connection, twin, stream.WrittenMemory);

        var original = await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, RowsHash, source));
        var copied = await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, RowsHash, twin));
        Assert.Equal(original, copied);
    }

    private static int IdOf(DecodedRow row) => BinaryPrimitives.ReadInt32BigEndian(row.Field(row.IndexOf(1)));

    private static string Hex(byte[]? bytes) =>
        bytes is null ? "NULL"
        : (bytes.Length > 96 ? $"{Convert.ToHexString(bytes[..96])}... ({bytes.Length} bytes)" : Convert.ToHexString(bytes))
          + $" «{System.Text.Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 200)])}»";
}

/// <summary>A production cluster holding <see cref="MoreTypesTable"/> and its rows; records the WAL range the rows were written in.</summary>
public sealed class MoreTypesServerFixture : IAsyncLifetime
{
    private ProductionCluster? _cluster;

    public ProductionCluster Cluster => _cluster ?? throw new InvalidOperationException("fixture not started");

    public string DataStartLsn { get; private set; } = "";
    public string DataEndLsn { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _cluster = await ProductionCluster.StartAsync("wal-more-types");
        await using var connection = await OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, "CREATE EXTENSION pageinspect; CREATE EXTENSION pg_walinspect;");
        await ServerTupleSource.ExecuteAsync(connection, MoreTypesTable.Ddl);
        DataStartLsn = await ServerTupleSource.CurrentLsnAsync(connection);
        await ServerTupleSource.ExecuteAsync(connection, MoreTypesTable.Data);
        DataEndLsn = await ServerTupleSource.CurrentLsnAsync(connection);
    }

    public Task<NpgsqlConnection> OpenAsync() => Cluster.Server.OpenAsync(ProductionCluster.Database);

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
