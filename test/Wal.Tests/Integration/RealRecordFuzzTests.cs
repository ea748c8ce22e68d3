using DataSync.Wal.Records;
using DataSync.Wal.Tests.Fuzz;
using DataSync.Wal.Tests.Support;
using Xunit.Abstractions;

namespace DataSync.Wal.Tests.Integration;

/// <summary>The record fuzz again, on real records of every kind the server wrote (bodies mutated, CRC recomputed).</summary>
[Collection(RealWalCollection.Name)]
public class RealRecordFuzzTests(RealWal wal, ITestOutputHelper output)
{
    public const int Mutations = 3_000;

    [Fact]
    public void Mutated_real_records_give_a_typed_error_never_a_crash()
    {
        var samples = new List<(byte Rmid, byte Info, uint Xid, byte[] Body)>();
        var perKind = new Dictionary<(byte, byte), int>();
        using (var reader = WalRecordReader.OpenFiles(wal.Segments))
        {
            while (reader.MoveNext())
            {
                var r = reader.Current;
                var key = (r.Rmid, r.Info);
                if (perKind.GetValueOrDefault(key) >= 20 || r.TotalLength > 20_000) continue;
                perKind[key] = perKind.GetValueOrDefault(key) + 1;
                samples.Add((r.Rmid, r.Info, r.Xid, r.Bytes[WalRecord.HeaderSize..].ToArray()));
            }
        }

        var random = new Random(777);
        var harness = new FuzzHarness();
        for (var i = 0; i < Mutations; i++)
        {
            var (rmid, info, xid, body) = samples[random.Next(samples.Count)];
            var builder = new WalBuilder();
            builder.Add(rmid, info, xid, MutatedWalFuzzTests.Mutate(body, random));
            harness.Run(builder.Sources(), $"real record mutation {i} of {rmid}/{info:X2}");
        }

        output.WriteLine($"{samples.Count} real records of {perKind.Count} kinds, {harness.Runs} mutations: {harness.Summary()}");
        Assert.True(perKind.Count > 60, $"{perKind.Count} kinds");
        Assert.Equal(Mutations, harness.Runs);
        Assert.True(harness.TypedErrors > 20, harness.Summary());
    }
}
