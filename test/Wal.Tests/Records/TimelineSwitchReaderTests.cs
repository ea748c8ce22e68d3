using System.Buffers.Binary;
using System.Globalization;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using DataSync.Wal.Tests.Support;

namespace DataSync.Wal.Tests.Records;

/// <summary>
/// Reading across a timeline switch: which copy of each segment is read, and how far; the parallel-framed path
/// (<see cref="SegmentFramer"/> over the chosen copies, <see cref="FramedRecordReader"/>) gives the same records, end and errors.
/// </summary>
public class TimelineSwitchReaderTests
{
    private static byte[] Body(int length, byte fill) => new RecordBody().Main(Enumerable.Repeat(fill, length).ToArray()).ToArray();

    /// <summary>
    /// Timeline 1 writes segments 1 and 2 and part of 3; a standby is promoted there (timeline 2 goes on in its copy of
    /// segment 3, then 4); the old primary, not stopped, goes on writing its own segments 3 and 4 (a dead branch).
    /// </summary>
    private sealed class Switched
    {
        public Switched(int deadRecords = 30)
        {
            for (var i = 0; i < 200; i++) Old.Add(21, 0, (uint)(100 + i), Body(9000, 1)); // crosses pages and segments
            Before = [.. Old.RecordLsns];
            New = Old.Branch(2);
            SwitchPoint = New.Position;
            Partial = (WalSegmentName.Format(1, SwitchPoint.Value / Old.SegmentSize, Old.SegmentSize) + ".partial",
                Old.Segments().Single(s => s.Name == WalSegmentName.Format(1, SwitchPoint.Value / Old.SegmentSize, Old.SegmentSize)).Bytes.ToArray());
            for (var i = 0; i < 150; i++) New.Add(21, 0, (uint)(1000 + i), Body(7000, 2));
            for (var i = 0; i < deadRecords; i++) Old.Add(21, 0, (uint)(5000 + i), Body(9000, 3));
        }

        public WalBuilder Old { get; } = new(timeline: 1);
        public WalBuilder New { get; }
        public List<Lsn> Before { get; }
        public Lsn SwitchPoint { get; }
        public (string Name, byte[] Bytes) Partial { get; }

        public TimelineHistory History => TimelineHistory.Parse("00000002.history",
            string.Create(CultureInfo.InvariantCulture, $"1\t{SwitchPoint}\tno recovery target specified\n"));

        public List<Lsn> Expected => [.. Before, .. New.RecordLsns];

        public IEnumerable<WalSegmentSource> OldSegments(ulong below) =>
            Old.Sources().Where(s => s.Name.Seg < below);

        public ulong SwitchSegment => SwitchPoint.Value / Old.SegmentSize;
    }

    [Fact]
    public void Reads_the_old_timeline_up_to_the_switch_segment_then_the_new_timelines_copy_of_it()
    {
        var wal = new Switched();
        Assert.True(wal.SwitchPoint.Value % wal.Old.SegmentSize > 8192, "the switch should fall inside a segment, past its first page");
        // Everything the archive holds: both timelines, the old one's dead segments and the .partial.
        var all = wal.Old.Sources().Concat(wal.New.Sources()).Append(WalSegmentSource.FromMemory(wal.Partial.Name, wal.Partial.Bytes)).ToList();

        foreach (var options in new[] { new WalReaderOptions { History = wal.History }, new WalReaderOptions() })
        {
            var (records, reader) = ReaderRun.ReadAll(all, options);

            Assert.Equal(wal.Expected, records.Select(r => r.Lsn));
            Assert.DoesNotContain(records, r => r.Xid >= 5000);
            Assert.Equal(2u, reader.Timeline);
            Assert.Equal(WalReadEnd.ZeroedTail, reader.End);
        }
    }

    [Fact]
    public void The_copied_part_of_the_switch_segment_keeps_the_old_timeline_in_its_page_headers()
    {
        var wal = new Switched();
        var (name, bytes) = wal.New.Segments()[0];
        Assert.Equal(wal.SwitchSegment, WalSegmentName.TryParse(name, out var parsed) ? parsed.Seg : 0);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        var switchPage = (int)(wal.SwitchPoint.Value % wal.New.SegmentSize) / 8192 * 8192;
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(switchPage + 4)));
        var lastPage = switchPage + 2 * 8192;
        Assert.True(lastPage < bytes.Length);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(lastPage - 8192 + 4)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(lastPage + 4)));

        // A page on an older timeline after one on a newer timeline is out of sequence.
        var tampered = bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(tampered.AsSpan(lastPage + 4), 1);
        var sources = wal.OldSegments(wal.SwitchSegment).Append(WalSegmentSource.FromMemory(name, tampered)).Concat(wal.New.Sources().Skip(1));
        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll(sources, new WalReaderOptions { History = wal.History }));
        Assert.Equal(WalErrorKind.UnexpectedTimeline, error.Kind);
        Assert.Equal(lastPage + 4, error.FileOffset);
    }

    [Fact]
    public void With_only_the_partial_of_the_switch_segment_reading_stops_at_the_switch_point()
    {
        var wal = new Switched(deadRecords: 0);
        var sources = wal.OldSegments(wal.SwitchSegment).Append(WalSegmentSource.FromMemory(wal.Partial.Name, wal.Partial.Bytes)).ToList();

        var (records, reader) = ReaderRun.ReadAll(sources, new WalReaderOptions { History = wal.History });

        Assert.Equal(wal.Before, records.Select(r => r.Lsn));
        Assert.Equal(WalReadEnd.TimelineEnded, reader.End);
        Assert.Equal(wal.SwitchPoint, reader.EndLsn);
    }

    [Fact]
    public void An_old_timelines_complete_copy_is_never_read_past_the_switch_point()
    {
        // The old primary finished segment 3 on its own; the new timeline's copy has not arrived.
        var wal = new Switched();
        var sources = wal.OldSegments(wal.SwitchSegment + 1).ToList();

        var (records, reader) = ReaderRun.ReadAll(sources, new WalReaderOptions { History = wal.History });

        Assert.Equal(wal.Before, records.Select(r => r.Lsn));
        Assert.Equal(WalReadEnd.TimelineEnded, reader.End);

        // With a later segment of the new timeline given, the missing copy is a gap, not an end.
        var error = Assert.Throws<WalFormatException>(() =>
            ReaderRun.ReadAll(sources.Concat(wal.New.Sources().Skip(1)), new WalReaderOptions { History = wal.History }));
        Assert.Equal(WalErrorKind.Gap, error.Kind);
    }

    [Fact]
    public void A_segment_of_a_timeline_outside_the_history_is_rejected()
    {
        var wal = new Switched();
        var stranger = new WalBuilder(timeline: 3, firstSegment: wal.SwitchSegment + 5);
        stranger.Switch();
        var sources = wal.New.Sources().Concat(stranger.Sources());

        var outside = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll(sources, new WalReaderOptions { History = wal.History }));
        Assert.Equal(WalErrorKind.UnexpectedTimeline, outside.Kind);
        Assert.Equal(stranger.Sources()[0].FileName, outside.FileName);
    }

    /// <summary>
    /// Frames the copies the sequential reader chooses, two at a time, with following segments looked up among
    /// <paramref name="lookup"/> (default: all given), and asserts the framed reader equals the sequential one.
    /// </summary>
    private static int AssertFramedSame(IReadOnlyList<WalSegmentSource> sources, WalReaderOptions options, IReadOnlyList<WalSegmentSource>? lookup = null)
    {
        using var sequential = new WalRecordReader(sources, options);
        var framer = SegmentFramer.Over(lookup ?? sources, options);
        using var framed = new FramedRecordReader(FramedRecordComparison.FrameInParallel(framer, WalRecordReader.ChooseSegments(sources, options)), options);
        var count = FramedRecordComparison.AssertSame(sequential, framed);
        Assert.Equal(sequential.Timeline, framed.Timeline);
        return count;
    }

    [Fact]
    public void Framed_across_the_switch_equals_the_sequential_reader()
    {
        var wal = new Switched();
        var all = wal.Old.Sources().Concat(wal.New.Sources()).Append(WalSegmentSource.FromMemory(wal.Partial.Name, wal.Partial.Bytes)).ToList();

        foreach (var options in new[] { new WalReaderOptions { History = wal.History }, new WalReaderOptions { Timeline = 2 }, new WalReaderOptions() })
        {
            Assert.Equal(wal.Expected.Count, AssertFramedSame(all, options));
            var chosen = WalRecordReader.ChooseSegments(all, options);
            Assert.Equal(2u, chosen.Single(s => s.Name.Seg == wal.SwitchSegment).Name.Timeline);
        }
    }

    [Fact]
    public void Framed_the_copied_part_may_keep_the_old_timeline_but_pages_never_go_back()
    {
        var wal = new Switched();
        var (name, bytes) = wal.New.Segments()[0];
        var options = new WalReaderOptions { History = wal.History };
        var intact = wal.OldSegments(wal.SwitchSegment).Append(WalSegmentSource.FromMemory(name, bytes)).Concat(wal.New.Sources().Skip(1)).ToList();
        Assert.Equal(wal.Expected.Count, AssertFramedSame(intact, options));

        // A page on an older timeline after one on a newer timeline: the same error at the same place.
        var switchPage = (int)(wal.SwitchPoint.Value % wal.New.SegmentSize) / 8192 * 8192;
        var tampered = bytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(tampered.AsSpan(switchPage + 2 * 8192 + 4), 1);
        var sources = wal.OldSegments(wal.SwitchSegment).Append(WalSegmentSource.FromMemory(name, tampered)).Concat(wal.New.Sources().Skip(1)).ToList();
        Assert.True(AssertFramedSame(sources, options) < wal.Expected.Count);

    }

    [Fact]
    public void Framed_a_segment_whose_first_page_goes_back_to_the_old_timeline_fails_where_the_sequential_reader_does()
    {
        // XLOG SWITCH ends the segment after the switch segment, so no record crosses into the next one and its
        // framer alone cannot tell that its first page goes back: only the order does.
        var wal = new Switched();
        wal.New.Switch();
        for (var i = 0; i < 20; i++) wal.New.Add(21, 0, (uint)(2000 + i), Body(3000, 4));
        var options = new WalReaderOptions { History = wal.History };
        var segments = wal.New.Segments();
        var target = segments.Count - 1;
        var back = segments[target].Bytes.ToArray();
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(back.AsSpan(4)));
        BinaryPrimitives.WriteUInt32LittleEndian(back.AsSpan(4), 1);
        var backwards = wal.OldSegments(wal.SwitchSegment)
            .Concat(segments.Select((s, i) => WalSegmentSource.FromMemory(s.Name, i == target ? back : s.Bytes))).ToList();

        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll(backwards, options));
        Assert.Equal(WalErrorKind.UnexpectedTimeline, error.Kind);
        Assert.Equal(segments[target].Name, error.FileName);
        Assert.Equal(4, error.FileOffset);
        using (var alone = SegmentFramer.Over(backwards, options).Frame(backwards[^1]))
            Assert.Null(alone.Failure);
        Assert.InRange(AssertFramedSame(backwards, options), wal.Before.Count + 150, wal.Expected.Count - 20);
    }

    [Fact]
    public void Framed_with_only_the_partial_framing_stops_at_the_switch_point()
    {
        var wal = new Switched(deadRecords: 0);
        var options = new WalReaderOptions { History = wal.History };
        var sources = wal.OldSegments(wal.SwitchSegment).Append(WalSegmentSource.FromMemory(wal.Partial.Name, wal.Partial.Bytes)).ToList();

        Assert.Equal(wal.Before.Count, AssertFramedSame(sources, options));

        using var partial = SegmentFramer.Over(sources, options).Frame(sources[^1]);
        Assert.Equal(WalReadEnd.TimelineEnded, partial.End);
        Assert.Equal(wal.SwitchPoint, partial.EndLsn);
        Assert.True(partial.RecordCount > 0 && partial.RecordLsn(partial.RecordCount - 1) < wal.SwitchPoint);
    }

    [Fact]
    public void Framed_an_old_timelines_complete_copy_stops_at_the_switch_point_and_a_later_segment_is_a_gap()
    {
        var wal = new Switched();
        var options = new WalReaderOptions { History = wal.History };
        var sources = wal.OldSegments(wal.SwitchSegment + 1).ToList();
        Assert.Equal(wal.Before.Count, AssertFramedSame(sources, options));

        var withLater = sources.Concat(wal.New.Sources().Skip(1)).ToList();
        // The framer of the switch segment sees the later segment and fails there...
        AssertFramedSame(withLater, options);
        // ...or it does not (framed before that segment arrived), and the ordered stage finds the gap at the same place.
        AssertFramedSame(withLater, options, lookup: sources);
    }

    [Fact]
    public void Framed_a_segment_of_a_timeline_outside_the_history_is_refused_where_segments_are_chosen_and_by_the_framer()
    {
        var wal = new Switched();
        var stranger = new WalBuilder(timeline: 3, firstSegment: wal.SwitchSegment + 5);
        stranger.Switch();
        var options = new WalReaderOptions { History = wal.History };
        var sources = wal.New.Sources().Concat(stranger.Sources()).ToList();

        var chosen = Assert.Throws<WalFormatException>(() => WalRecordReader.ChooseSegments(sources, options));
        using var framed = SegmentFramer.Over(sources, options).Frame(stranger.Sources()[0]);
        Assert.Equal(0, framed.RecordCount);
        Assert.Equal(WalErrorKind.UnexpectedTimeline, framed.Failure?.Kind);
        Assert.Equal(chosen.FileName, framed.Failure?.FileName);
        Assert.Equal(stranger.Sources()[0].FileName, chosen.FileName);
    }
}
