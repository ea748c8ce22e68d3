using DataSync.Wal.Records;
using DataSync.Wal.Tests.Support;

namespace DataSync.Wal.Tests.Records;

/// <summary>The one reordering step between parallel framing and sequential reading: order, bound, and what it disposes.</summary>
public sealed class SegmentReorderBufferTests
{
    private static readonly RelFileLocator Table = new(1663, 5, 16384);

    /// <summary>Four segments of small records, the last partly written.</summary>
    private static (WalBuilder Wal, List<FramedSegment> Framed) FourSegments()
    {
        var wal = new WalBuilder();
        for (var segment = 0; segment < 3; segment++)
        {
            for (var i = 0; i < 50; i++)
                wal.Add(10, 0x00, (uint)i, new RecordBody().Block(0, Table, (uint)i, new byte[60 + i]).Main([1, 2, 3]).ToArray());
            wal.Switch();
        }

        wal.Add(10, 0x00, 1, new RecordBody().Block(0, Table, 1, new byte[60]).Main([1, 2, 3]).ToArray());
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);
        return (wal, sources.Select(s => framer.Frame(s)).ToList());
    }

    [Fact]
    public void Segments_arriving_in_any_order_come_back_in_order_and_read_as_the_sequential_reader_reads()
    {
        var (wal, framed) = FourSegments();
        using var buffer = new SegmentReorderBuffer(capacity: 4);
        using var reader = new FramedRecordReader([]);

        // Arrival order, and how many wait after each arrival once everything in order is taken.
        foreach (var (index, waiting) in new[] { (2, 1), (0, 1), (3, 2), (1, 0) })
        {
            Assert.Equal(SegmentAdmission.Accepted, buffer.TryAdd(index, framed[index]));
            while (buffer.TakeNext() is { } next) reader.Append(next);
            Assert.Equal(waiting, buffer.Count);
        }

        Assert.Equal(4, buffer.NextSequence);
        Assert.Equal(0, buffer.BufferedBytes);
        using var sequential = new WalRecordReader(wal.Sources());
        Assert.Equal(wal.RecordLsns.Count, FramedRecordComparison.AssertSame(sequential, reader));
    }

    [Fact]
    public void A_segment_given_out_already_here_already_or_beyond_the_bound_is_refused_and_disposed()
    {
        var (_, framed) = FourSegments();
        var again = FourSegments().Framed;
        using var buffer = new SegmentReorderBuffer(capacity: 2, firstSequence: 10);

        Assert.False(buffer.CanAccept(12));
        Assert.Equal(SegmentAdmission.BeyondBound, buffer.TryAdd(12, framed[2]));
        Assert.Equal(SegmentAdmission.Accepted, buffer.TryAdd(11, framed[1]));
        Assert.Equal(SegmentAdmission.HereAlready, buffer.TryAdd(11, again[1]));
        Assert.Equal(framed[1].RecordBytesTotal, buffer.BufferedBytes);
        Assert.Null(buffer.TakeNext());
        Assert.Equal(SegmentAdmission.Accepted, buffer.TryAdd(10, framed[0]));
        Assert.Same(framed[0], buffer.TakeNext());
        Assert.Same(framed[1], buffer.TakeNext());
        Assert.Equal(SegmentAdmission.GivenOutAlready, buffer.TryAdd(10, again[0]));
        // The window moved on: 12 and 13 fit now.
        Assert.True(buffer.CanAccept(13));

        foreach (var refused in new[] { framed[2], again[1], again[0] })
            Assert.Throws<ObjectDisposedException>(() => refused.RecordBytes(0).Length);
        Assert.False(framed[0].RecordBytes(0).IsEmpty);
        framed[0].Dispose();
        framed[1].Dispose();
        framed[3].Dispose();
        again[2].Dispose();
        again[3].Dispose();
    }

    [Fact]
    public void Reset_and_dispose_drop_what_waits()
    {
        var (_, framed) = FourSegments();
        var buffer = new SegmentReorderBuffer(capacity: 3);
        Assert.Equal(SegmentAdmission.Accepted, buffer.TryAdd(1, framed[1]));
        Assert.Equal(SegmentAdmission.Accepted, buffer.TryAdd(2, framed[2]));

        buffer.Reset(nextSequence: 7);
        Assert.Equal(0, buffer.Count);
        Assert.Equal(0, buffer.BufferedBytes);
        Assert.Equal(7, buffer.NextSequence);
        Assert.Throws<ObjectDisposedException>(() => framed[1].RecordBytes(0).Length);
        Assert.Throws<ObjectDisposedException>(() => framed[2].RecordBytes(0).Length);

        Assert.Equal(SegmentAdmission.Accepted, buffer.TryAdd(8, framed[3]));
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => framed[3].RecordBytes(0).Length);
        framed[0].Dispose();
    }
}
