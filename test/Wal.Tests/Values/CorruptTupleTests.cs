using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Tuples;
using DataSync.Wal.Values;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// Real tuples of every supported type with bytes flipped at random: decoding either succeeds or
/// fails with one of the decoder's typed errors, never with an out-of-range access or a crash.
/// </summary>
[Trait("Category", "Server")]
public sealed class CorruptTupleTests(AllTypesServerFixture fixture) : IClassFixture<AllTypesServerFixture>
{
    [Fact]
    public async Task Corrupt_tuples_give_typed_errors_only()
    {
        await using var connection = await fixture.OpenAsync();
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, AllTypesServerFixture.Table);
        var table = Assert.Single(snapshot.Tables);
        var decoder = new RowDecoder(table, new ValueConverter(snapshot.CreateTypeRegistry()));
        var toast = new ToastChunkStore();
        foreach (var tuple in await ServerTupleSource.PageTuplesAsync(connection, $"pg_toast.pg_toast_{table.RelationOid}"))
            toast.AddPageTuple(table.ToastRelationOid, tuple);
        var tuples = (await ServerTupleSource.PageTuplesAsync(connection, AllTypesServerFixture.Table)).Where(t => t.Length < 4000).ToList();

        var random = new Random(int.Parse(Environment.GetEnvironmentVariable("FUZZ_SEED") ?? "20251125", System.Globalization.CultureInfo.InvariantCulture));
        var typedErrors = 0;
        for (var round = 0; round < 5_000; round++)
        {
            var tuple = tuples[random.Next(tuples.Count)].ToArray();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
                tuple[random.Next(22, tuple.Length)] = (byte)random.Next(256);
            if (random.Next(10) == 0) tuple = tuple[..random.Next(23, tuple.Length)];
            try
            {
                decoder.DecodePage(tuple, toast);
            }
            catch (Exception e) when (e is TupleFormatException or DatumFormatException or VarlenaFormatException)
            {
                typedErrors++;
            }
        }

        Assert.True(typedErrors > 250, $"only {typedErrors} corruptions were detected");
    }
}
