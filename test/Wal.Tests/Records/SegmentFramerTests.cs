using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using DataSync.Wal.Tests.Support;

namespace DataSync.Wal.Tests.Records;

/// <summary>
/// Framing segments one by one (in parallel) and reading them back in order gives what the
/// sequential reader gives, on synthetic WAL shaped to hit every boundary case; the same on real WAL
/// is <c>FramedRealWalTests</c>.
/// </summary>
public class SegmentFramerTests
{
    private static readonly RelFileLocator Table = new(1663, 5, 16384);

    private static byte[] Bytes(int length, byte seed) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + seed)).ToArray();

    /// <summary>Three 1 MiB segments and a fourth partly written: small records, page-crossing ones, one crossing into each next segment, one longer than a segment.</summary>
    private static WalBuilder Shapes(out Lsn crossing, out Lsn longerThanSegment)
    {
        var wal = new WalBuilder();
        for (var i = 0; i < 200; i++)
            wal.Add(10, 0x00, (uint)i, new RecordBody().Block(0, Table, (uint)i, Bytes(40 + i, 1)).Main(Bytes(3, 2)).ToArray());
        while (wal.Position.Value % wal.SegmentSize < wal.SegmentSize - 20000)
            wal.Add(21, 0, 7, new RecordBody().Main(Bytes(8100 + (int)(wal.Position.Value % 97), 3)).ToArray());
        // Begins in segment 1, ends in segment 2 (larger than a page).
        crossing = wal.Add(21, 0, 8, new RecordBody().Main(Bytes(50000, 4)).ToArray());
        for (var i = 0; i < 50; i++) wal.Add(1, 0x80, 9, new RecordBody().Main(Bytes(100, 5)).ToArray());
        while (wal.Position.Value % wal.SegmentSize < wal.SegmentSize - 30000)
            wal.Add(21, 0, 7, new RecordBody().Main(Bytes(3000, 3)).ToArray());
        // Begins in segment 2, covers all of segment 3, ends in segment 4: segment 3 has no record of its own.
        longerThanSegment = wal.Add(21, 0, 10, new RecordBody().Main(Bytes((int)wal.SegmentSize + 100000, 6)).ToArray());
        for (var i = 0; i < 30; i++) wal.Add(1, 0x80, 11, new RecordBody().Main(Bytes(64, 7)).ToArray());
        return wal;
    }

    [Fact]
    public void Framed_segments_read_in_order_give_the_sequential_readers_records_fields_and_end()
    {
        var wal = Shapes(out var crossing, out var longer);
        var sources = wal.Sources();
        Assert.Equal(4, sources.Count);
        var framer = SegmentFramer.Over(sources);
        var framed = sources.Select(s => framer.Frame(s)).ToList();

        // Segment 3 lies inside the long record: nothing begins in it, and framing it just finds where the next record begins.
        Assert.Equal(0, framed[2].RecordCount);
        Assert.All(framed.Take(3), f => Assert.True(f.IsComplete));
        Assert.Equal(crossing, framed[0].RecordLsn(framed[0].RecordCount - 1));
        Assert.Equal(longer, framed[1].RecordLsn(framed[1].RecordCount - 1));
        Assert.Equal(WalReadEnd.ZeroedTail, framed[3].End);

        using var sequential = new WalRecordReader(sources);
        using var reader = new FramedRecordReader(framed);
        var count = FramedRecordComparison.AssertSame(sequential, reader);
        Assert.Equal(wal.RecordLsns.Count, count);
        Assert.Equal(WalReadEnd.ZeroedTail, reader.End);
    }

    [Fact]
    public void Records_framed_on_two_threads_are_the_same_as_on_one()
    {
        var wal = Shapes(out _, out _);
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);

        using var sequential = new WalRecordReader(sources);
        using var parallel = new FramedRecordReader(FramedRecordComparison.FrameInParallel(framer, sources));

        Assert.Equal(wal.RecordLsns.Count, FramedRecordComparison.AssertSame(sequential, parallel));
    }

    [Fact]
    public void A_bad_crc_in_the_middle_segment_surfaces_after_the_records_before_it_with_file_and_lsn()
    {
        var wal = Shapes(out _, out _);
        var segments = wal.Segments();
        // A small record well inside segment 2.
        var victim = wal.RecordLsns.First(l => l.Value / wal.SegmentSize == wal.FirstSegment + 1 && l.Value % wal.SegmentSize > 4096);
        segments[1].Bytes[(int)(victim.Value % wal.SegmentSize) + 30] ^= 0x40;
        var sources = segments.Select(s => WalSegmentSource.FromMemory(s.Name, s.Bytes)).ToList();
        var framer = SegmentFramer.Over(sources);

        using var sequential = new WalRecordReader(sources);
        using var parallel = new FramedRecordReader(FramedRecordComparison.FrameInParallel(framer, sources));
        var before = FramedRecordComparison.AssertSame(sequential, parallel);

        Assert.Equal(wal.RecordLsns.IndexOf(victim), before);
        var error = Assert.Throws<WalFormatException>(() => parallel.MoveNext());
        Assert.Equal(WalErrorKind.BadCrc, error.Kind);
        Assert.Equal(segments[1].Name, error.FileName);
        Assert.Equal(victim, error.Lsn);
        Assert.Same(parallel.Failure, error);
    }

    [Fact]
    public void A_missing_segment_is_the_sequential_readers_gap_error()
    {
        var wal = new WalBuilder();
        for (var s = 0; s < 3; s++)
        {
            wal.FillSegment(bodySize: 300);
            wal.Switch();
        }

        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 1)).ToArray());
        var sources = wal.Sources().Where((_, i) => i != 1).ToList();
        var framer = SegmentFramer.Over(sources);

        using var sequential = new WalRecordReader(sources);
        using var parallel = new FramedRecordReader(sources.Select(s => framer.Frame(s)));

        FramedRecordComparison.AssertSame(sequential, parallel);
        Assert.Equal(WalErrorKind.Gap, parallel.Failure!.Kind);
    }

    [Fact]
    public void A_record_cut_off_at_the_last_segment_ends_cleanly_and_the_segment_framed_again_later_goes_on()
    {
        var wal = Shapes(out var crossing, out _);
        var sources = wal.Sources();
        var first = sources.Take(1).ToList();

        // Only segment 1 has arrived: its last record continues into segment 2.
        var early = SegmentFramer.Over(first).Frame(first[0]);
        Assert.Equal(WalReadEnd.IncompleteRecord, early.End);
        Assert.Equal(crossing, early.EndLsn);
        Assert.False(early.IsComplete);
        using (var sequential = new WalRecordReader(first))
        using (var framed = new FramedRecordReader([SegmentFramer.Over(first).Frame(first[0])]))
            FramedRecordComparison.AssertSame(sequential, framed);

        using var reader = new FramedRecordReader([early]);
        var lsns = new List<Lsn>();
        while (reader.MoveNext()) lsns.Add(reader.Current.Lsn);
        Assert.Equal(crossing, reader.EndLsn);
        Assert.False(reader.MoveNext());

        // Segment 2 arrives and is framed first: it waits, as reading cannot go on before the cut-off record.
        var framer = SegmentFramer.Over(sources);
        reader.Append(framer.Frame(sources[1]));
        Assert.False(reader.MoveNext());
        // Segment 1 framed again (whole) goes ahead of it; records already given are skipped.
        reader.Append(framer.Frame(sources[0]));
        foreach (var source in sources.Skip(2)) reader.Append(framer.Frame(source));
        while (reader.MoveNext()) lsns.Add(reader.Current.Lsn);

        Assert.Equal(wal.RecordLsns, lsns);
        Assert.Equal(WalReadEnd.ZeroedTail, reader.End);
    }

    [Fact]
    public void Framing_again_from_the_cut_off_record_gives_just_the_rest_of_the_segment()
    {
        var wal = Shapes(out var crossing, out _);
        var sources = wal.Sources();
        var early = SegmentFramer.Over(sources.Take(1)).Frame(sources[0]);
        using var reader = new FramedRecordReader([early]);
        var lsns = new List<Lsn>();
        while (reader.MoveNext()) lsns.Add(reader.Current.Lsn);
        var framer = SegmentFramer.Over(sources);

        var rest = framer.Frame(sources[0], reader.EndLsn);
        Assert.True(rest.IsComplete);
        Assert.Equal(1, rest.RecordCount);
        Assert.Equal(crossing, rest.RecordLsn(0));
        reader.Append(rest);
        foreach (var source in sources.Skip(1)) reader.Append(framer.Frame(source));
        while (reader.MoveNext()) lsns.Add(reader.Current.Lsn);

        Assert.Equal(wal.RecordLsns, lsns);
        // A position where no record can begin (inside a page header) is an error, not a guess.
        using var wrong = framer.Frame(sources[0], new Lsn(wal.FirstSegment * wal.SegmentSize + wal.PageSize + 8));
        Assert.Equal(WalErrorKind.BadRecordHeader, wrong.Failure?.Kind);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Framing_in_order_on_the_pool_gives_what_the_sequential_reader_gives(int workers)
    {
        var wal = Shapes(out _, out _);
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);

        using var sequential = new WalRecordReader(sources);
        using var parallel = new FramedRecordReader(framer.FrameInOrder(sources, workers));
        Assert.Equal(wal.RecordLsns.Count, FramedRecordComparison.AssertSame(sequential, parallel));
    }

    [Fact]
    public void Framing_in_order_stopped_early_gives_the_first_segments_and_disposes_the_rest()
    {
        var wal = Shapes(out _, out _);
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);

        var taken = framer.FrameInOrder(sources, workers: 3).Take(2).ToList();
        Assert.Equal([sources[0].FileName, sources[1].FileName], taken.Select(s => s.FileName));
        Assert.All(taken, s => Assert.True(s.RecordCount == 0 || !s.RecordBytes(0).IsEmpty));
        foreach (var segment in taken) segment.Dispose();
    }

    [Fact]
    public void Running_out_of_segments_ends_as_the_end_of_the_files_and_appending_goes_on()
    {
        var wal = Shapes(out _, out _);
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);
        using var reader = new FramedRecordReader([]);
        var lsns = new List<Lsn>();

        Assert.False(reader.MoveNext());
        Assert.Equal(WalReadEnd.EndOfFiles, reader.End);
        reader.Append(framer.Frame(sources[0]));
        while (reader.MoveNext()) lsns.Add(reader.Current.Lsn);
        Assert.Equal(WalReadEnd.EndOfFiles, reader.End);
        // The last record of segment 1 ends in segment 2: reading resumes after it.
        Assert.Equal(lsns.Count, wal.RecordLsns.IndexOf(reader.EndLsn));
        foreach (var source in sources.Skip(1)) reader.Append(framer.Frame(source));
        while (reader.MoveNext()) lsns.Add(reader.Current.Lsn);

        Assert.Equal(wal.RecordLsns, lsns);
    }

    [Fact]
    public void A_record_linking_to_the_wrong_previous_record_across_segments_is_caught_in_order()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 1)).ToArray());
        wal.Switch();
        // The first record of segment 2 says its predecessor is somewhere else; its CRC is made to fit.
        var second = wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 1)).ToArray(), record =>
        {
            record[8] ^= 0x08;
            WalBuilder.FixCrc(record);
        });
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 2)).ToArray());
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);

        using var sequential = new WalRecordReader(sources);
        using var parallel = new FramedRecordReader(sources.Select(s => framer.Frame(s)));

        FramedRecordComparison.AssertSame(sequential, parallel);
        Assert.Equal(WalErrorKind.BadRecordHeader, parallel.Failure!.Kind);
        Assert.Equal(second, parallel.Failure.Lsn);
    }

    [Fact]
    public void A_reader_past_its_segments_no_longer_refers_to_their_pooled_buffers()
    {
        var wal = Shapes(out _, out _);
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);
        using var reader = new FramedRecordReader([]);
        reader.Append(framer.Frame(sources[0]));

        // While a record is current it is read from the segment's buffer; once the segment is done the buffer goes back to the
        // pool, and a record still pointing at it would keep 16 MiB alive after the pool let go of it (the idle daemon did).
        Assert.True(reader.MoveNext());
        Assert.True(reader.Current.HoldsBytes);
        while (reader.MoveNext()) Assert.True(reader.Current.HoldsBytes);
        Assert.False(reader.Current.HoldsBytes);
        Assert.Equal(0, reader.Current.BlockCount);
        Assert.Equal(0, reader.Current.MainDataLength);
    }

    [Fact]
    public void Framing_and_reading_back_allocate_per_segment_not_per_record()
    {
        var wal = new WalBuilder();
        for (var i = 0; i < 8000; i++)
            wal.Add(10, 0x00, (uint)i, new RecordBody().Block(0, Table, (uint)i, Bytes(40, 1)).Main(Bytes(3, 2)).ToArray());
        var sources = wal.Sources();
        var framer = SegmentFramer.Over(sources);
        // Warm up: the JIT, and the pool's buffers of every size the run rents.
        Assert.Equal(8000, FrameAndRead(framer, sources, out _));

        // The least of three runs: the runtime's own one-off work (tiering) can land in one of them on a loaded machine.
        var allocated = long.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var count = FrameAndRead(framer, sources, out var sum);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(8000, count);
            Assert.True(sum > 0);
        }

        // One object per record would be at least 24 bytes each, 192 000 bytes here; what is left is per segment and per reader.
        Assert.True(allocated < 16_000, $"{allocated} bytes allocated over 8000 records (least of three runs)");
    }

    private static int FrameAndRead(SegmentFramer framer, IReadOnlyList<WalSegmentSource> sources, out long sum)
    {
        sum = 0;
        var count = 0;
        using var reader = new FramedRecordReader([]);
        foreach (var source in sources) reader.Append(framer.Frame(source));
        while (reader.MoveNext())
        {
            sum += reader.Current.BlockData(0)[0] + reader.Current.MainData[0] + reader.Current.Block(0).Relation.RelNumber;
            count++;
        }

        return count;
    }
}
