using System.Buffers.Binary;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using DataSync.Wal.Tests.Support;
using Xunit.Abstractions;

namespace DataSync.Wal.Tests.Fuzz;

/// <summary>
/// Fuzz-style tests on synthetic WAL: mutated pages (no fix-ups, so most fail the page or CRC
/// checks) and mutated records with a recomputed CRC (so the block-reference and typed-record
/// parsers see the damage). Seeds are fixed: a failure names the iteration and reproduces.
/// </summary>
public class MutatedWalFuzzTests(ITestOutputHelper output)
{
    public const int PageMutations = 6_000;
    public const int RecordMutations = 4_000;

    private static readonly RelFileLocator Table = new(1663, 16397, 16467);

    [Fact]
    public void Mutated_pages_give_a_clean_end_or_a_typed_error_never_a_crash_hang_or_huge_allocation()
    {
        var wal = BaseWal(new Random(1));
        var segments = wal.Segments();
        var written = (int)(wal.Position.Value - wal.FirstSegment * wal.SegmentSize);
        var random = new Random(12345);
        var harness = new FuzzHarness();

        for (var i = 0; i < PageMutations; i++)
        {
            var copies = segments.Select(s => (s.Name, Bytes: (byte[])s.Bytes.Clone())).ToList();
            var mutations = random.Next(1, 9);
            for (var m = 0; m < mutations; m++)
            {
                var position = random.Next(4) switch
                {
                    // A page header, where magic, flags, address and remaining length live.
                    0 => random.Next(written / 8192 + 1) * 8192 + random.Next(40),
                    // The first bytes of a record header.
                    1 => (int)(wal.RecordLsns[random.Next(wal.RecordLsns.Count)].Value - wal.FirstSegment * wal.SegmentSize) + random.Next(24),
                    _ => random.Next(written),
                };
                var segment = position / (int)wal.SegmentSize;
                if (segment >= copies.Count) continue;
                copies[segment].Bytes[position % (int)wal.SegmentSize] = random.Next(3) == 0 ? (byte)0 : (byte)random.Next(256);
            }

            harness.Run(copies.Select(c => (WalSegmentSource)WalSegmentSource.FromMemory(c.Name, c.Bytes)).ToList(), $"page mutation {i}");
        }

        output.WriteLine($"{harness.Runs} mutated inputs, {harness.RecordsRead} records read: {harness.Summary()}");
        Assert.Equal(PageMutations, harness.Runs);
        // The mutations must actually reach the checks, not all slip through as clean ends.
        Assert.True(harness.Outcomes.Keys.Count(k => k.StartsWith("error:", StringComparison.Ordinal)) >= 4, harness.Summary());
    }

    [Fact]
    public void Mutated_records_with_a_valid_crc_give_a_typed_error_never_a_crash()
    {
        var templates = Templates();
        var random = new Random(54321);
        var harness = new FuzzHarness();

        for (var i = 0; i < RecordMutations; i++)
        {
            var (rmid, info, body) = templates[random.Next(templates.Count)];
            var mutated = Mutate(body, random);
            var wal = new WalBuilder();
            wal.Add(rmid, random.Next(8) == 0 ? (byte)random.Next(256) : info, (uint)random.Next(1000), mutated);
            wal.Add(21, 0, 0, new RecordBody().Main([1, 2, 3]).ToArray());
            harness.Run(wal.Sources(), $"record mutation {i} of {rmid}/{info:X2}");
        }

        output.WriteLine($"{harness.Runs} mutated records, {harness.RecordsRead} records read: {harness.Summary()}");
        Assert.Equal(RecordMutations, harness.Runs);
        Assert.Contains(harness.Outcomes.Keys, k => k == "error: BadBlockReference");
        Assert.Contains(harness.Outcomes.Keys, k => k == "typed/image error: BadRecordData");
    }

    [Fact]
    public void The_unmutated_templates_are_valid_so_mutations_start_from_good_records()
    {
        var wal = new WalBuilder();
        foreach (var (rmid, info, body) in Templates()) wal.Add(rmid, info, 700, body);
        var harness = new FuzzHarness();

        harness.Run(wal.Sources(), "templates");

        // Only the three compressed images are garbage on purpose (pglz, lz4, zstd).
        Assert.True("typed/image error: BadImage x3, end: ZeroedTail x1" == harness.Summary(), string.Join("\n", harness.FirstTypedErrors));
        Assert.Equal(Templates().Count, (int)harness.RecordsRead);
    }

    public static byte[] Mutate(byte[] body, Random random)
    {
        var bytes = (byte[])body.Clone();
        switch (random.Next(5))
        {
            case 0:
                return bytes[..random.Next(bytes.Length + 1)];
            case 1:
                return [.. bytes, .. Enumerable.Range(0, random.Next(1, 40)).Select(_ => (byte)random.Next(256))];
            default:
                if (bytes.Length == 0) return [(byte)random.Next(256)];
                for (var k = random.Next(1, 6); k > 0; k--)
                {
                    var position = random.Next(Math.Min(bytes.Length, random.Next(2) == 0 ? 24 : bytes.Length));
                    bytes[position] = random.Next(4) switch
                    {
                        0 => 0xFF,
                        1 => 0,
                        _ => (byte)random.Next(256),
                    };
                }

                return bytes;
        }
    }

    /// <summary>Valid bodies of every typed kind and block shape, to mutate.</summary>
    public static List<(byte Rmid, byte Info, byte[] Body)> Templates()
    {
        static byte[] U32(params uint[] v)
        {
            var b = new byte[v.Length * 4];
            for (var i = 0; i < v.Length; i++) BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(i * 4), v[i]);
            return b;
        }

        byte[] tuple = [2, 0, 2, 8, 24, 0, 2, 0, 0, 0, 19, 102, 117, 108, 108, 32, 116, 119, 111];
        var page = new byte[8192 - 4000];
        new Random(3).NextBytes(page);
        return
        [
            (10, 0x00, new RecordBody().Block(0, Table, 0, tuple).Main([2, 0, 8]).ToArray()),
            (10, 0x10, new RecordBody().Block(0, Table, 0).Main([.. U32(700), 2, 0, 0, 4, .. tuple]).ToArray()),
            (10, 0x20, new RecordBody().Block(0, Table, 1, [.. tuple]).Block(1, null, 0).Main([.. U32(700), 3, 0, 0, 0x18, .. U32(0), 4, 0, .. tuple]).ToArray()),
            (10, 0x30, new RecordBody().Main([.. U32(16397, 2), 0, 0, 0, 0, .. U32(16400, 16401)]).ToArray()),
            (10, 0x70, new RecordBody().Block(0, Table, 0, new byte[40]).Main([1, 0, 0, 0, .. U32(5, 1663), 0, 0, 0, 0, .. U32(1), .. new byte[16]]).ToArray()),
            (9, 0xD0, new RecordBody().Block(0, Table, 0, [12, 0, 2, 0, 2, 8, 24, .. new byte[12], 0, 12, 0, 2, 0, 2, 8, 24, .. new byte[12]], willInit: true).Main([8, 0, 2, 0]).ToArray()),
            (9, 0x70, new RecordBody().Main([.. U32(700, 1, 2, 3, 1663, 16397, 1259, 0), 5, 0, 1, 0]).ToArray()),
            (9, 0x10, new RecordBody().Block(0, Table, 0, new byte[20]).Main([1, 8, .. U32(600)]).ToArray()),
            (1, 0x80, new RecordBody().Main([.. new byte[8], .. U32(0x1F, 16397, 1663, 2, 801, 802, 1, 1663, 16397, 16500), .. U32(1), .. new byte[16], .. U32(900)]).ToArray()),
            (1, 0x10, new RecordBody().Main([.. U32(0x57F94534, 220, 900, 16397, 0, 0, 10, 1, 0, 0, 0, 0, 0), 0, 0, 8, 0, .. new byte[16], .. "gid_one\0"u8.ToArray(), .. U32(801, 0)]).ToArray()),
            (1, 0x50, new RecordBody().Main(U32(700, 2, 701, 702)).ToArray()),
            (8, 0x10, new RecordBody().Main([.. U32(2, 1, 0, 800, 700, 799, 700, 701, 702)]).ToArray()),
            (8, 0x00, new RecordBody().Main(U32(1, 700, 16397, 16467)).ToArray()),
            (0, 0x10, new RecordBody().Main(new byte[88]).ToArray()),
            (7, 0x00, new RecordBody().Main([.. U32(16397, 1663, 524), .. new byte[524]]).ToArray()),
            (2, 0x10, new RecordBody().Main(U32(1663, 16397, 16500, 0)).ToArray()),
            (2, 0x20, new RecordBody().Main(U32(0, 1663, 16397, 16500, 7)).ToArray()),
            (0, 0xB0, new RecordBody()
                .ImageBlock(0, Table, 0, page, 100, 4000, BlockReference.ImageHasHole | BlockReference.ImageApply)
                .ImageBlock(1, null, 1, page[..200], 100, 4000, BlockReference.ImageHasHole | BlockReference.ImageApply | BlockReference.ImagePglz)
                .ImageBlock(2, null, 2, page[..300], 100, 4000, BlockReference.ImageHasHole | BlockReference.ImageApply | BlockReference.ImageLz4)
                .ImageBlock(3, null, 3, page[..300], 0, 0, BlockReference.ImageApply | BlockReference.ImageZstd).ToArray()),
            (10, 0x00, new RecordBody().Block(0, Table, 0, tuple).Origin(3).TopLevelXid(699).Main([2, 0, 8]).ToArray()),
        ];
    }

    /// <summary>A base WAL of all shapes: records within pages, across pages and across a segment boundary, blocks, images, origins.</summary>
    public static WalBuilder BaseWal(Random random)
    {
        var wal = new WalBuilder();
        var templates = Templates();
        for (var i = 0; i < 60; i++)
        {
            var (rmid, info, body) = templates[i % templates.Count];
            wal.Add(rmid, info, (uint)(700 + i), body);
        }

        for (var i = 0; i < 20; i++) wal.Add(21, 0, 0, new RecordBody().Main(new byte[random.Next(5000, 20000)]).ToArray());
        wal.FillSegment(bodySize: 7000);
        wal.Add(21, 0, 0, new RecordBody().Main(new byte[30000]).ToArray());
        for (var i = 0; i < 30; i++)
        {
            var (rmid, info, body) = templates[i % templates.Count];
            wal.Add(rmid, info, (uint)(800 + i), body);
        }

        return wal;
    }
}
