using System.Buffers.Binary;
using System.Text;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.TestRig.Workloads;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// The isn types have no binary send form, so the server has no COPY BINARY bytes to compare with: their values are
/// written as text, and the oracle is the server's exact text for each value (cast to ean13, which prints all 13 digits
/// and the wrong-check-digit flag). Tuples taken raw from a live 18.1 server (pages and WAL) decode, field by field, into
/// exactly that text without hyphens, and loaded back through the same casts the apply uses, every value (arrays,
/// their bounds and the domain included) is stored as the original was.
/// </summary>
[Trait("Category", "Server")]
public sealed class IsnDifferentialTests(IsnServerFixture fixture) : IClassFixture<IsnServerFixture>
{
    private static readonly string[] ScalarColumns = ["e", "b13", "m13", "s13", "b", "m", "s", "u", "d"];

    [Fact]
    public async Task Page_tuples_print_as_text_that_reads_back_to_the_same_values()
    {
        await using var connection = await fixture.OpenAsync();
        // The catalog as the daemon keeps it: persisted as JSON and read back.
        var restored = CatalogJson.Deserialize(CatalogJson.Serialize(await NpgsqlCatalogReader.ReadAsync(connection, "public." + IsnTable.Name)));
        var table = Assert.Single(restored.Tables);
        var decoder = new RowDecoder(table, restored.CreateValueConverter());
        var rows = (await ServerTupleSource.PageTuplesAsync(connection, IsnTable.Name)).Select(t => decoder.DecodePage(t, null)).ToList();
        await AssertReadsBackAsync(connection, rows, "isn_from_pages", 7);
    }

    [Fact]
    public async Task Wal_tuples_print_as_text_that_reads_back_to_the_same_values()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public." + IsnTable.Name);
        var table = Assert.Single(snapshot.Tables);
        var decoder = new RowDecoder(table, snapshot.CreateValueConverter());
        var rows = new List<DecodedRow>();
        foreach (var block in await ServerTupleSource.WalBlocksAsync(connection, fixture.DataStartLsn, fixture.DataEndLsn, table.RelFileNode))
        {
            Assert.StartsWith("INSERT", block.RecordType);
            rows.Add(decoder.DecodeWal(block.Data, null));
        }

        await AssertReadsBackAsync(connection, rows, "isn_from_wal", 7);
    }

    /// <summary>The text of a value entered with a wrong check digit ends in <c>!</c>; the stored number keeps the corrected digit.</summary>
    [Fact]
    public async Task Flagged_values_keep_their_flag_and_issue_digits_are_kept()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public." + IsnTable.Name);
        var table = Assert.Single(snapshot.Tables);
        var decoder = new RowDecoder(table, snapshot.CreateValueConverter());
        var rows = (await ServerTupleSource.PageTuplesAsync(connection, IsnTable.Name)).Select(t => decoder.DecodePage(t, null)).ToDictionary(IdOf);
        string Text(int id, string column) => Encoding.ASCII.GetString(rows[id].Field(rows[id].IndexOf(Column(table, column))));

        Assert.Equal("2222222222222!", Text(3, "e"));
        Assert.Equal("9771234567003!", Text(3, "s"));
        Assert.Equal("0123456789012!", Text(3, "u"));
        Assert.Equal("9771234567898", Text(4, "s"));
        Assert.Equal("0012345678905", Text(2, "u")); // a UPC is stored as the EAN-13 number with a leading 0
        Assert.Equal("""[0:1][2:3]={{"9780123456786","9791234567896!"},{NULL,"9780123456786!"}}""", Text(3, "a"));
        Assert.Equal("""{"9780393040029!",NULL}""", Text(3, "ad"));
        Assert.Equal("{}", Text(5, "a"));
        // A row stored before the column was added carries the default the catalog holds, as the server prints it.
        Assert.Equal("9783161484100", Text(2, "late").Replace("-", "", StringComparison.Ordinal));
    }

    /// <summary>Real tuples with bytes flipped at random: decoding either succeeds or fails with one of the decoder's typed
    /// errors (a number with a wrong check digit or too many digits, an array that does not fit), never with a crash.</summary>
    [Fact]
    public async Task Corrupt_tuples_give_typed_errors_only()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public." + IsnTable.Name);
        var decoder = new RowDecoder(Assert.Single(snapshot.Tables), snapshot.CreateValueConverter());
        var tuples = await ServerTupleSource.PageTuplesAsync(connection, IsnTable.Name);
        var random = new Random(int.Parse(Environment.GetEnvironmentVariable("FUZZ_SEED") ?? "20261206", System.Globalization.CultureInfo.InvariantCulture));
        var typedErrors = 0;
        for (var round = 0; round < 3_000; round++)
        {
            var tuple = tuples[random.Next(tuples.Count)].ToArray();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                tuple[random.Next(22, tuple.Length)] = (byte)random.Next(256);
            try
            {
                decoder.DecodePage(tuple, null);
            }
            catch (Exception e) when (e is DataSync.Wal.Tuples.TupleFormatException or DatumFormatException or DataSync.Wal.Toast.VarlenaFormatException)
            {
                typedErrors++;
            }
        }

        Assert.True(typedErrors > 300, $"only {typedErrors} corruptions were detected");
    }

    private static short Column(TableDescriptor table, string name) => table.Columns.Single(c => c.Name == name).AttNum;

    private static async Task AssertReadsBackAsync(NpgsqlConnection connection, List<DecodedRow> rows, string twin, int expectedRows)
    {
        Assert.All(rows, r => Assert.False(r.HasUnchangedToast));
        rows.Sort((x, y) => IdOf(x).CompareTo(IdOf(y)));
        Assert.Equal(expectedRows, rows.Count);

        // Byte-exact: each scalar value's text is the server's exact text for it (ean13's output) without the hyphens.
        var expected = await ServerRowsAsync(connection,
            $"SELECT {string.Join(", ", ScalarColumns.Select(c => $"replace({c}::ean13::text, '-', '')"))} FROM {IsnTable.Name} ORDER BY id");
        Assert.Equal(expectedRows, expected.Count);
        var mismatches = new List<string>();
        for (var r = 0; r < rows.Count; r++)
        {
            for (var c = 0; c < ScalarColumns.Length; c++)
            {
                var field = rows[r].IndexOf(rows[r].Columns.Single(col => col.Name == ScalarColumns[c]).AttNum);
                var ours = rows[r].State(field) == FieldState.Null ? null : Encoding.ASCII.GetString(rows[r].Field(field));
                if (ours != expected[r][c]) mismatches.Add($"id {IdOf(rows[r])}, {ScalarColumns[c]}: server {expected[r][c] ?? "NULL"}, ours {ours ?? "NULL"}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));

        // Read back: into a twin whose isn columns are text, then cast to each column's type as the apply does, and compared
        // value by value through the server's exact text (arrays with their bounds).
        var source = new TableName("public", IsnTable.Name);
        var text = await TextCarriedColumn.ReadAsync(connection, source, CancellationToken.None);
        var columns = rows[0].Columns.Select(c => c.Name).ToList();
        Assert.Equal(["e", "b13", "m13", "s13", "b", "m", "s", "u", "d", "a", "ad", "ae", "late"], columns.Where(text.ContainsKey));
        var staged = columns.Select(c => text.ContainsKey(c) ? $"{c}::text AS {c}" : c);
        await ServerTupleSource.ExecuteAsync(connection, $"DROP TABLE IF EXISTS {twin}; CREATE TABLE {twin} AS SELECT {string.Join(", ", staged)} FROM {IsnTable.Name} WITH NO DATA");
        var stream = new SendBuffer();
        CopyBinaryFormat.WriteHeader(stream);
        foreach (var row in rows) CopyBinaryFormat.WriteRow(row, stream);
        CopyBinaryFormat.WriteTrailer(stream);
        await ServerTupleSource.CopyInAsync(connection, twin, stream.WrittenMemory);

        var original = columns.Select(c => text.TryGetValue(c, out var t) ? t.ToText($"o.{c}") : $"o.{c}");
        var loaded = columns.Select(c => text.TryGetValue(c, out var t) ? t.ToText($"({t.FromText($"c.{c}")})") : $"c.{c}");
        var differing = await ServerRowsAsync(connection,
            $"SELECT o.id::text, ROW({string.Join(", ", original)})::text, ROW({string.Join(", ", loaded)})::text " +
            $"FROM {IsnTable.Name} o FULL JOIN {twin} c ON c.id = o.id " +
            $"WHERE ROW({string.Join(", ", original)}) IS DISTINCT FROM ROW({string.Join(", ", loaded)}) ORDER BY 1");
        Assert.True(differing.Count == 0, string.Join("\n", differing.Select(d => $"id {d[0]}: production {d[1]}\n      loaded {d[2]}")));
        Assert.Equal(expectedRows.ToString(System.Globalization.CultureInfo.InvariantCulture),
            await ServerTupleSource.ScalarTextAsync(connection, $"SELECT count(*) FROM {twin}"));
    }

    private static async Task<List<string?[]>> ServerRowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string?[]>();
        while (await reader.ReadAsync())
        {
            var row = new string?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : reader.GetString(i);
            rows.Add(row);
        }

        return rows;
    }

    private static int IdOf(DecodedRow row) => BinaryPrimitives.ReadInt32BigEndian(row.Field(row.IndexOf(1)));
}

/// <summary>A production cluster holding <see cref="IsnTable"/> and its rows; records the WAL range the rows were written in.</summary>
public sealed class IsnServerFixture : IAsyncLifetime
{
    private ProductionCluster? _cluster;

    public ProductionCluster Cluster => _cluster ?? throw new InvalidOperationException("fixture not started");

    public string DataStartLsn { get; private set; } = "";
    public string DataEndLsn { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _cluster = await ProductionCluster.StartAsync("wal-isn");
        await using var connection = await OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, "CREATE EXTENSION pageinspect; CREATE EXTENSION pg_walinspect;");
        await ServerTupleSource.ExecuteAsync(connection, IsnTable.Ddl);
        DataStartLsn = await ServerTupleSource.CurrentLsnAsync(connection);
        await ServerTupleSource.ExecuteAsync(connection, IsnTable.Data);
        DataEndLsn = await ServerTupleSource.CurrentLsnAsync(connection);
    }

    public Task<NpgsqlConnection> OpenAsync() => Cluster.Server.OpenAsync(ProductionCluster.Database);

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
