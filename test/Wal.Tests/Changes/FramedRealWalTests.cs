using System.Security.Cryptography;
using DataSync.Wal.Changes;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using DataSync.Wal.Tests.Records;
using Xunit.Abstractions;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// On real WAL: segments framed two at a time and handed over in order give the sequential reader's
/// records and the sequential <see cref="ChangeDecoder"/>'s transactions, stop at a corrupt record with
/// its error and nothing after it, and end cleanly at a record cut off by the last segment.
/// </summary>
public sealed class FramedRealWalTests(FramedRealWal wal, ITestOutputHelper output) : IClassFixture<FramedRealWal>
{
    private const int PageSize = 8192;
    private const ulong SegmentSize = 16 * 1024 * 1024;

    [Fact]
    public void Records_framed_in_parallel_equal_the_sequential_readers_record_for_record()
    {
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);
        int crossing = 0, largerThanPageCrossing = 0, longerThanSegment = 0;
        var segmentsWithoutRecords = 0;
        var framed = FramedRecordComparison.FrameInParallel(framer, sources).Select(f =>
        {
            if (f.RecordCount == 0) segmentsWithoutRecords++;
            return f;
        });

        using var sequential = new WalRecordReader(sources);
        using var parallel = new FramedRecordReader(framed);
        var count = FramedRecordComparison.AssertSame(sequential, parallel, r =>
        {
            var first = r.Lsn.Value / SegmentSize;
            var last = (r.EndLsn.Value - 1) / SegmentSize;
            if (first == last) return;
            crossing++;
            if (r.TotalLength > PageSize) largerThanPageCrossing++;
            if (last - first >= 2) longerThanSegment++;
        });

        output.WriteLine($"{count} records over {sources.Count} segments; {crossing} cross a segment boundary ({largerThanPageCrossing} larger than a page, " +
                         $"{longerThanSegment} longer than a segment); {segmentsWithoutRecords} segment(s) without a record of their own");
        Assert.True(sources.Count >= 5, $"only {sources.Count} segments");
        Assert.True(crossing >= 3, $"only {crossing} records cross a segment boundary");
        Assert.True(largerThanPageCrossing >= 1, "no record larger than a page crosses a segment boundary");
        Assert.True(longerThanSegment >= 1 && segmentsWithoutRecords >= 1, "the 40 MB message did not span a whole segment");
        Assert.Equal(WalReadEnd.EndOfFiles, parallel.End);
    }

    [Fact]
    public void ChangeDecoder_over_parallel_framed_segments_gives_the_sequential_transactions_and_changes()
    {
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);

        var expected = Transactions(wal.SequentialDecoder(sources), out var sequentialEnd);
        var actual = Transactions(FramedDecoder(framer.FrameInOrder(sources, workers: 2)), out var framedEnd);

        output.WriteLine($"{expected.Count} transactions, {expected.Sum(t => t.Split('\n').Length - 1)} changes; end {sequentialEnd}");
        Assert.True(expected.Count > 100, $"only {expected.Count} committed transactions");
        Assert.Equal(expected, actual);
        Assert.Equal(sequentialEnd, framedEnd);
    }

    [Fact]
    public void A_corrupted_byte_in_the_middle_segment_stops_both_paths_at_the_same_record_with_nothing_decoded_after_it()
    {
        // A segment near the middle that has records of its own (the 40 MB message may fill the exact middle).
        var (middle, victim) = Enumerable.Range(1, wal.Segments.Count - 2).OrderBy(i => Math.Abs(i - wal.Segments.Count / 2))
            .Select(i => (i, SmallRecordInTheMiddleOf(wal.Segments[i]))).First(v => v.Item2.IsValid);
        var folder = Path.Combine(wal.Directory, "corrupt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var copies = wal.Segments.Select(s =>
        {
            var copy = Path.Combine(folder, Path.GetFileName(s));
            File.Copy(s, copy);
            return copy;
        }).ToList();
        using (var file = new FileStream(copies[middle], FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = (long)(victim.Value % SegmentSize) + 26;
            var b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b ^ 0x10));
        }

        var all = Transactions(wal.SequentialDecoder(wal.Sources()), out _);
        var sources = copies.Select(WalSegmentSource.FromFile).ToList();
        var sequentialSeen = new List<string>();
        var sequentialError = DecodeUntilError(wal.SequentialDecoder(sources), sequentialSeen);
        var seen = new List<string>();
        var framedError = DecodeUntilError(FramedDecoder(FramedRecordComparison.FrameInParallel(SegmentFramer.Over(sources), sources)), seen);

        Assert.NotNull(sequentialError);
        Assert.NotNull(framedError);
        output.WriteLine($"{framedError.Message}; {seen.Count} of {all.Count} transactions before it");
        Assert.Equal(WalErrorKind.BadCrc, framedError.Kind);
        Assert.Equal(Path.GetFileName(copies[middle]), framedError.FileName);
        Assert.Equal(victim, framedError.Lsn);
        Assert.Equal((sequentialError.Kind, sequentialError.FileName, sequentialError.FileOffset, sequentialError.Lsn),
            (framedError.Kind, framedError.FileName, framedError.FileOffset, framedError.Lsn));
        Assert.Equal(sequentialSeen, seen);
        // What came out is exactly the transactions that committed before the corrupt record, and some committed after it.
        var before = all.Where(t => CommitLsnOf(t) < victim).ToList();
        Assert.Equal(before, seen);
        Assert.True(before.Count > 10 && all.Count - before.Count > 10, $"{before.Count} transactions before the corrupt record, {all.Count - before.Count} after");
    }

    [Fact]
    public void A_last_segment_ending_inside_a_record_ends_cleanly_and_a_later_run_goes_on_from_that_record()
    {
        var all = wal.Sources();
        var expected = Transactions(wal.SequentialDecoder(all), out _);
        // The first segment after the middle whose last record continues into the next one.
        var available = Enumerable.Range(all.Count / 2, all.Count / 2 - 1)
            .Select(k => all.Take(k + 1).ToList())
            .First(s =>
            {
                using var f = SegmentFramer.Over(s).Frame(s[^1]);
                return f.End == WalReadEnd.IncompleteRecord;
            });

        using var sequential = wal.SequentialDecoder(available);
        var sequentialPart = Transactions(sequential);
        using var framed = FramedDecoder(FramedRecordComparison.FrameInParallel(SegmentFramer.Over(available), available));
        var framedPart = Transactions(framed);

        Assert.Equal(WalReadEnd.IncompleteRecord, sequential.End);
        Assert.Equal((sequential.End, sequential.EndLsn), (framed.End, framed.EndLsn));
        Assert.Equal(sequentialPart, framedPart);
        Assert.True(framed.EndLsn.Value / SegmentSize == wal.Start.Value / SegmentSize + (ulong)available.Count - 1, "the cut-off record begins in the last segment");

        // The next segment arrives: the last one is framed again from the cut-off record, and reading goes on.
        var framer = SegmentFramer.Over(all);
        var again = framer.Frame(available[^1], framed.EndLsn);
        Assert.True(again.IsComplete);
        Assert.Equal(framed.EndLsn, again.RecordLsn(0));
        framed.Append(again);
        foreach (var source in all.Skip(available.Count)) framed.Append(framer.Frame(source));
        var rest = Transactions(framed);

        Assert.Equal(expected, framedPart.Concat(rest).ToList());
        Assert.Equal(WalReadEnd.EndOfFiles, framed.End);
        output.WriteLine($"{framedPart.Count} transactions up to {available[^1].FileName}, {rest.Count} after; cut-off record at {sequential.EndLsn}");
    }

    private ChangeDecoder FramedDecoder(IEnumerable<FramedSegment> segments) => new(wal.Catalog, wal.Locations, segments, wal.Start);

    /// <summary>A record within one page in the second half of the segment file, or invalid when there is none.</summary>
    private static Lsn SmallRecordInTheMiddleOf(string segment)
    {
        using var reader = WalRecordReader.OpenFiles([segment]);
        while (reader.MoveNext())
        {
            var r = reader.Current;
            var offset = r.Lsn.Value % SegmentSize;
            if (offset > SegmentSize / 2 && r.TotalLength >= 64 && offset % PageSize + r.TotalLength <= PageSize) return r.Lsn;
        }

        return Lsn.Invalid;
    }

    private static Lsn CommitLsnOf(string transaction) => Lsn.Parse(transaction.Split(' ')[2]);

    private static List<string> Transactions(ChangeDecoder decoder, out string end)
    {
        using (decoder)
        {
            var list = Transactions(decoder);
            end = $"{decoder.End} at {decoder.EndLsn}, {decoder.RecordCount} records";
            return list;
        }
    }

    /// <summary>Decodes into <paramref name="seen"/> until the end or bad WAL, which it returns.</summary>
    private static WalFormatException? DecodeUntilError(ChangeDecoder decoder, List<string> seen)
    {
        using (decoder)
        {
            try
            {
                foreach (var transaction in decoder.Transactions()) seen.Add(Describe(transaction));
                return null;
            }
            catch (WalFormatException e)
            {
                return e;
            }
        }
    }

    /// <summary>Everything a transaction carries, the rows as hashes of their COPY BINARY bytes.</summary>
    private static List<string> Transactions(ChangeDecoder decoder) => decoder.Transactions().Select(Describe).ToList();

    private static string Describe(CommittedTransaction t)
    {
        var text = new System.Text.StringBuilder();
        text.Append($"xid {t.Xid} {t.CommitLsn} first {t.FirstLsn} end {t.EndLsn} at {t.CommitTime:O} gid {t.Gid} before {t.StartedBeforeDecoding} entries {t.BufferedEntries}\n");
        foreach (var change in t.Changes)
        {
            text.Append(change switch
            {
                RowChange row => $"{row.Kind} {row.Table.QualifiedName} {row.Lsn} old {Hash(row.OldKey)} new {Hash(row.NewRow)} unchanged-toast {row.NewRow?.HasUnchangedToast}",
                _ => change.ToString(),
            });
            text.Append('\n');
        }

        return text.ToString();
    }

    private static string Hash(DataSync.Wal.Values.DecodedRow? row) => row is null ? "-" : Convert.ToHexString(SHA256.HashData(row.CopyTuple))[..16];
}
