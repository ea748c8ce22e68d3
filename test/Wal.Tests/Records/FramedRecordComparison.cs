using DataSync.Wal.Records;

namespace DataSync.Wal.Tests.Records;

/// <summary>Reads two record sources side by side and asserts they give the same records, fields and bytes, and end the same way.</summary>
internal static class FramedRecordComparison
{
    /// <summary>Every field a reader sets, block references included, as one comparable string.</summary>
    public static string Describe(WalRecord r)
    {
        var blocks = string.Join(";", Enumerable.Range(0, r.BlockCount).Select(i =>
        {
            ref readonly var b = ref r.Block(i);
            return $"{b.BlockId}/{b.ForkFlags}/{b.Relation}/{b.BlockNumber}/{b.DataOffset}+{b.DataLength}/{b.ImageOffset}+{b.ImageLength}/{b.HoleOffset}+{b.HoleLength}/{b.ImageInfo}";
        }));
        return $"{r.Lsn} end {r.EndLsn} prev {r.PrevLsn} xid {r.Xid} top {r.TopLevelXid} rmgr {r.Rmid} info {r.Info} len {r.TotalLength} crc {r.Crc} " +
               $"main {r.MainDataOffset}+{r.MainDataLength} origin {r.HasOrigin}/{r.Origin} file {r.FileName}@{r.FileOffset} blocks [{blocks}]";
    }

    /// <summary>Returns the number of records compared; asserts equality of everything up to the end or the same exception.</summary>
    public static int AssertSame(IWalRecordSource expected, IWalRecordSource actual, Action<WalRecord>? inspect = null)
    {
        var count = 0;
        while (true)
        {
            var e = Step(expected, out var expectedError);
            var a = Step(actual, out var actualError);
            if (expectedError is not null || actualError is not null)
            {
                Assert.True(expectedError is not null, $"after {count} records only the framed path failed: {actualError?.Message}");
                Assert.True(actualError is not null, $"after {count} records only the sequential reader failed: {expectedError!.Message}");
                Assert.Equal(expectedError.Kind, actualError.Kind);
                Assert.Equal(expectedError.FileName, actualError.FileName);
                Assert.Equal(expectedError.FileOffset, actualError.FileOffset);
                Assert.Equal(expectedError.Lsn, actualError.Lsn);
                return count;
            }

            Assert.True(e == a, $"after {count} records: sequential {(e ? "has another" : "ended")}, framed {(a ? "has another" : "ended")}");
            if (!e) break;
            Assert.Equal(Describe(expected.Current), Describe(actual.Current));
            Assert.True(expected.Current.Bytes.SequenceEqual(actual.Current.Bytes), $"bytes of {expected.Current.Lsn} differ");
            inspect?.Invoke(actual.Current);
            count++;
        }

        Assert.Equal(expected.End, actual.End);
        Assert.Equal(expected.EndLsn, actual.EndLsn);
        return count;
    }

    private static bool Step(IWalRecordSource source, out WalFormatException? error)
    {
        error = null;
        try
        {
            return source.MoveNext();
        }
        catch (WalFormatException e)
        {
            error = e;
            return false;
        }
    }

    /// <summary>Frames every segment, two at a time on the thread pool, and returns them in segment order.</summary>
    public static IEnumerable<FramedSegment> FrameInParallel(SegmentFramer framer, IEnumerable<DataSync.Wal.Segments.WalSegmentSource> sources) =>
        sources.AsParallel().AsOrdered().WithDegreeOfParallelism(2).Select(s => framer.Frame(s));
}
