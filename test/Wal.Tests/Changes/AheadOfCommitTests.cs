using System.Text;
using DataSync.TestRig;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using static DataSync.Wal.Tests.Values.ServerTupleSource;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// A transaction's rows handed out in parts ahead of its commit (<see cref="ReassemblerOptions.EndAhead"/>) are exactly
/// the rows its commit would have brought, in the same order: parts end only after a whole row (never between TOAST
/// chunks and their row, inside a COPY batch, or between a speculative insert and its confirmation), and rows of
/// rolled-back savepoints stay out. A transaction whose end is not at hand, that aborts, or that changes a definition
/// comes out whole at its commit, and the WAL ahead is not read again at every record meanwhile.
/// </summary>
public sealed class AheadOfCommitTests
{
    private const uint SegmentSize = 16 * 1024 * 1024;

    private const string Ddl = """
        CREATE TABLE t (id int PRIMARY KEY, v text, big text);
        CREATE TABLE u (id int PRIMARY KEY, v text);
        """;

    [Fact]
    public async Task Parts_ahead_of_a_commit_carry_exactly_the_rows_its_commit_would_have_brought()
    {
        await using var rig = await ChangeRig.StartAsync("ahead-parts", Ddl, "INSERT INTO t SELECT g, 'before', NULL FROM generate_series(1, 1000) g", ["public.t", "public.u"]);
        await rig.CaptureStartAsync();
        await using var big = await rig.Production.Server.OpenAsync(ProductionCluster.Database);
        // Savepoints first, so that parts hold their rows: a released one (its rows count), a rolled-back one (they do not).
        await ExecuteAsync(big, "BEGIN; SAVEPOINT r; UPDATE t SET v = 'released' WHERE id <= 100; " +
            "INSERT INTO t SELECT g, 'in released', NULL FROM generate_series(60001, 65000) g; RELEASE SAVEPOINT r");
        await ExecuteAsync(big, "SAVEPOINT s; INSERT INTO t SELECT g, 'rolled back', NULL FROM generate_series(50001, 55000) g; ROLLBACK TO SAVEPOINT s");
        await ExecuteAsync(big, "INSERT INTO t SELECT g, md5(g::text), NULL FROM generate_series(1001, 21000) g");
        await rig.Production.ExecuteAsync("INSERT INTO u VALUES (1, 'committed first')");
        // Values stored out of line: their TOAST chunks come before their row, and a part must not come between.
        await ExecuteAsync(big, "INSERT INTO t SELECT g, 'toasted', (SELECT string_agg(md5(random()::text || i), '') FROM generate_series(1, 400) i) " +
            "FROM generate_series(30001, 30040) g");
        // COPY: multi-insert records, whose TOAST chunks come before the whole batch.
        await using (var copy = await big.BeginTextImportAsync("COPY t (id, v, big) FROM STDIN"))
        {
            for (var id = 40001; id <= 45000; id++)
                await copy.WriteLineAsync($"{id}\tcopied\t{(id % 250 == 0 ? RandomHex(id, 12_800) : "small")}");
        }

        await rig.Production.ExecuteAsync("UPDATE u SET v = 'again' WHERE id = 1");
        // Speculative inserts: new keys are inserted and confirmed, existing ones updated.
        await ExecuteAsync(big, "INSERT INTO t SELECT g, 'upserted', NULL FROM generate_series(20990, 21010) g ON CONFLICT (id) DO UPDATE SET v = excluded.v || ' over'");
        await ExecuteAsync(big, "SAVEPOINT q; UPDATE t SET v = 'late savepoint' WHERE id BETWEEN 101 AND 200; RELEASE SAVEPOINT q");
        await ExecuteAsync(big, "DELETE FROM t WHERE id BETWEEN 500 AND 600; UPDATE t SET big = NULL WHERE id BETWEEN 30001 AND 30010; COMMIT");
        await rig.ArchiveAsync();

        var whole = Decode(rig, null, out _);
        var scout = new TransactionEndScout(lsn => SegmentsFrom(rig, lsn));
        var inParts = Decode(rig, new ReassemblerOptions { EndAhead = scout.Find, AheadPartBytes = 256 * 1024 }, out var parts);

        var bigXid = whole.Single(t => t.Value.Count > 20000).Key;
        Assert.True(parts >= 5, $"{parts} part(s) handed out ahead of the commit");
        Assert.Equal(whole.Keys.Order(), inParts.Keys.Order());
        foreach (var (xid, changes) in whole) Assert.Equal(changes, inParts[xid]);
        Assert.DoesNotContain(whole[bigXid], c => c.Contains(Hex("rolled back"), StringComparison.Ordinal));
        Assert.Contains(whole[bigXid], c => c.StartsWith("Insert", StringComparison.Ordinal) && c.Contains(Hex("upserted"), StringComparison.Ordinal));
        Assert.Equal(5000, whole[bigXid].Count(c => c.Contains(Hex("in released"), StringComparison.Ordinal)));
        Assert.True(scout.SegmentsRead <= rig.Segments.Count, $"{scout.SegmentsRead} segment(s) read ahead");
    }

    [Fact]
    public async Task A_transaction_that_aborts_changes_a_definition_or_ends_beyond_the_wal_at_hand_comes_out_whole_at_its_commit()
    {
        await using var rig = await ChangeRig.StartAsync("ahead-whole", Ddl, "INSERT INTO t SELECT g, 'before', NULL FROM generate_series(1, 1000) g", ["public.t", "public.u"]);
        await rig.CaptureStartAsync();
        await rig.Production.ExecuteAsync("BEGIN; INSERT INTO t SELECT g, 'aborted', NULL FROM generate_series(100001, 130000) g; ROLLBACK;");
        await rig.Production.ExecuteAsync("BEGIN; TRUNCATE u; INSERT INTO t SELECT g, 'after a truncate', NULL FROM generate_series(200001, 230000) g; COMMIT;");
        await rig.Production.ExecuteAsync("INSERT INTO t SELECT g, 'ordinary', NULL FROM generate_series(300001, 330000) g");
        await rig.ArchiveAsync();

        // The WAL is all at hand: the aborted one and the TRUNCATE come out whole; the ordinary one in parts.
        var scout = new TransactionEndScout(lsn => SegmentsFrom(rig, lsn));
        var transactions = Decode(rig, new ReassemblerOptions { EndAhead = scout.Find, AheadPartBytes = 256 * 1024 }, out var parts, out var partXids);
        var ordinary = transactions.Single(t => t.Value.Count == 30000 && t.Value[0].Contains(Hex("ordinary"), StringComparison.Ordinal)).Key;
        var truncating = transactions.Single(t => t.Value.Count > 30000).Key;
        Assert.DoesNotContain(transactions.Values, c => c.Any(r => r.Contains(Hex("aborted"), StringComparison.Ordinal)));
        Assert.Equal([ordinary], partXids.Distinct());
        Assert.True(parts >= 2, $"{parts} part(s)");
        Assert.DoesNotContain(truncating, partXids);

        // Nothing beyond the segment being read is at hand (a live stream): no parts, and the look ahead is not repeated
        // at every one of the big transactions' 60,000 records (they are looked for again only after growing by another part).
        var looks = 0;
        var blind = Decode(rig, new ReassemblerOptions
        {
            EndAhead = (_, _) =>
            {
                looks++;
                return null;
            },
            AheadPartBytes = 256 * 1024,
        }, out var blindParts);
        Assert.Equal(0, blindParts);
        Assert.Equal(transactions.Keys.Order(), blind.Keys.Order());
        Assert.InRange(looks, 2, 40);
    }

    [Fact]
    public async Task A_look_for_an_end_not_at_hand_yet_goes_on_where_the_last_one_stopped()
    {
        await using var rig = await ChangeRig.StartAsync("ahead-scout", Ddl, "", ["public.t", "public.u"]);
        await rig.CaptureStartAsync();
        await using var big = await rig.Production.Server.OpenAsync(ProductionCluster.Database);
        await ExecuteAsync(big, "BEGIN; INSERT INTO t SELECT g, 'a', NULL FROM generate_series(1, 1000) g");
        var xid = uint.Parse(await ScalarTextAsync(big, "SELECT pg_current_xact_id()::text"), System.Globalization.CultureInfo.InvariantCulture);
        await ExecuteAsync(big, "SELECT pg_switch_wal(); INSERT INTO t SELECT g, 'b', NULL FROM generate_series(1001, 2000) g");
        await ExecuteAsync(big, "SELECT pg_switch_wal(); INSERT INTO t SELECT g, 'c', NULL FROM generate_series(2001, 3000) g; COMMIT");
        var commit = Lsn.Parse(await rig.Production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
        await rig.ArchiveAsync();

        // The spool grows one segment at a time, as a live stream's does.
        var atHand = 1;
        var first = rig.Start.Value / SegmentSize;
        var scout = new TransactionEndScout(lsn => SegmentsFrom(rig, lsn).Where(s => SegmentNumber(s) < first + (ulong)atHand).ToList());
        Assert.Null(scout.Find(xid, rig.Start));
        Assert.Equal(1, scout.SegmentsRead);
        atHand = 2;
        Assert.Null(scout.Find(xid, rig.Start));
        atHand = 10;
        var end = scout.Find(xid, rig.Start);
        Assert.NotNull(end);
        Assert.Equal(TransactionEndKind.Commit, end.Kind);
        Assert.True(end.AppliesAhead);
        Assert.True(end.Lsn < commit && SegmentNumber(end.Lsn) == first + 2, $"commit found at {end.Lsn}");
        // Each segment was read once (the third look began where the second stopped), give or take the one a stop fell at the start of.
        Assert.InRange(scout.SegmentsRead, 3, 4);

        // The daemon's looks run in the background: the first ask only starts one, a later one gets what it found; a
        // look that found nothing is followed by another at the next ask, when more may be at hand.
        using var reading = new SemaphoreSlim(0);
        atHand = 1;
        var lookout = new DataSync.Core.Sync.TransactionEndLookout(new TransactionEndScout(lsn =>
        {
            reading.Wait();
            return SegmentsFrom(rig, lsn).Where(s => SegmentNumber(s) < first + (ulong)atHand).ToList();
        }));
        Assert.Null(lookout.Find(xid, rig.Start));
        Assert.Null(lookout.Find(xid, rig.Start));
        reading.Release();
        await Task.Delay(500);
        Assert.Null(lookout.Find(xid, rig.Start));
        atHand = 10;
        reading.Release();
        TransactionEnd? later = null;
        for (var waited = 0; later is null && waited < 200; waited++)
        {
            await Task.Delay(50);
            later = lookout.Find(xid, rig.Start);
        }

        Assert.Equal((end.Kind, end.Lsn, end.EndLsn), (later!.Kind, later.Lsn, later.EndLsn));
    }

    private static ulong SegmentNumber(WalSegmentSource segment) => WalSegmentName.TryParse(segment.FileName, out var name) ? name.SegmentNumber(SegmentSize) : ulong.MaxValue;

    private static ulong SegmentNumber(Lsn lsn) => lsn.Value / SegmentSize;

    private static Dictionary<uint, List<string>> Decode(ChangeRig rig, ReassemblerOptions? options, out int parts) => Decode(rig, options, out parts, out _);

    /// <summary>Each transaction's changes in the order they came out (its parts, then its commit), as text with their row images.</summary>
    private static Dictionary<uint, List<string>> Decode(ChangeRig rig, ReassemblerOptions? options, out int parts, out List<uint> partXids)
    {
        var changes = new Dictionary<uint, List<string>>();
        parts = 0;
        partXids = [];
        using var decoder = rig.Decoder(options);
        foreach (var transaction in decoder.Transactions())
        {
            if (transaction.AheadOfCommit)
            {
                parts++;
                partXids.Add(transaction.Xid);
            }

            if (!changes.TryGetValue(transaction.Xid, out var list)) changes[transaction.Xid] = list = [];
            foreach (var change in transaction.Changes)
            {
                list.Add(change is RowChange row
                    ? $"{row.Kind} {row.Table.Name} {Convert.ToHexString(row.OldKey is { } key ? key.CopyTuple : default)} {Convert.ToHexString(row.NewRow is { } image ? image.CopyTuple : default)}"
                    : change.GetType().Name);
            }
        }

        foreach (var empty in changes.Where(c => c.Value.Count == 0).Select(c => c.Key).ToList()) changes.Remove(empty);
        return changes;
    }

    private static List<WalSegmentSource> SegmentsFrom(ChangeRig rig, Lsn from) =>
        rig.Segments.Where(s => WalSegmentName.TryParse(Path.GetFileName(s), out var name) && name.SegmentNumber(SegmentSize) >= from.Value / SegmentSize)
            .Select(WalSegmentSource.FromFile).ToList();

    private static string Hex(string text) => Convert.ToHexString(Encoding.UTF8.GetBytes(text));

    private static string RandomHex(int seed, int length)
    {
        var bytes = new byte[length / 2];
        new Random(seed).NextBytes(bytes);
        return Convert.ToHexString(bytes);
    }
}
