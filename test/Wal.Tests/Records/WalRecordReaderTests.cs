using System.Buffers.Binary;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using DataSync.Wal.Tests.Support;

namespace DataSync.Wal.Tests.Records;

public class WalRecordReaderTests
{
    private static readonly RelFileLocator Table = new(1663, 5, 16384);

    private static byte[] Bytes(int length, byte seed) => Enumerable.Range(0, length).Select(i => (byte)(i * 7 + seed)).ToArray();

    [Fact]
    public void Reads_records_in_order_with_their_fields()
    {
        var wal = new WalBuilder();
        var first = wal.Add(10, 0x00, 700, new RecordBody().Block(0, Table, 3, Bytes(19, 1)).Main(Bytes(3, 2)).ToArray());
        var second = wal.Add(1, 0x80, 700, new RecordBody().Main(Bytes(20, 3)).ToArray());

        var (records, reader) = ReaderRun.ReadAll(wal.Sources());

        Assert.Equal([first, second], records.Select(r => r.Lsn));
        Assert.Equal(700u, records[0].Xid);
        Assert.Equal(Bytes(3, 2), records[0].MainData);
        Assert.Equal(1, records[0].Blocks);
        Assert.Equal(Bytes(20, 3), records[1].MainData);
        Assert.Equal(first + ((records[0].TotalLength + 7) & ~7u), records[0].End);
        Assert.Equal(WalReadEnd.ZeroedTail, reader.End);
        Assert.Equal(records[1].End, reader.EndLsn);
        Assert.Equal(1u << 20, reader.SegmentSize);
        Assert.Equal(WalBuilder.SystemId, reader.SystemIdentifier);
    }

    [Fact]
    public void Reassembles_records_that_cross_pages_including_split_headers()
    {
        var wal = new WalBuilder();
        var expected = new List<byte[]>();
        // Sizes chosen so that records end at every distance from a page end, splitting headers too.
        for (var size = 8100; size < 8400; size += 13)
        {
            var main = Bytes(size, (byte)size);
            expected.Add(main);
            wal.Add(21, 0x00, 0, new RecordBody().Main(main).ToArray());
        }

        var (records, reader) = ReaderRun.ReadAll(wal.Sources());

        Assert.Equal(expected.Count, records.Count);
        for (var i = 0; i < expected.Count; i++) Assert.Equal(expected[i], records[i].MainData);
        Assert.Equal(WalReadEnd.ZeroedTail, reader.End);
    }

    [Fact]
    public void Reassembles_a_record_longer_than_a_segment_across_segments()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(100, 1)).ToArray());
        var big = Bytes((int)(wal.SegmentSize * 2), 9);
        var lsn = wal.Add(21, 0, 0, new RecordBody().Main(big).ToArray());
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(50, 2)).ToArray());

        var (records, reader) = ReaderRun.ReadAll(wal.Sources());

        Assert.True(3 == records.Count, $"{records.Count} records, {reader.End} at {reader.EndLsn}; written at {string.Join(", ", wal.RecordLsns)}");
        Assert.Equal(lsn, records[1].Lsn);
        Assert.Equal(big, records[1].MainData);
        Assert.Equal(3, wal.Segments().Count);
    }

    [Fact]
    public void Starting_at_a_later_segment_skips_the_tail_of_a_record_begun_before_it()
    {
        var wal = new WalBuilder();
        wal.FillSegment(bodySize: 3000);
        // This record straddles the boundary into segment 2 and spans several pages there.
        var straddling = wal.Add(21, 0, 0, new RecordBody().Main(Bytes(30000, 4)).ToArray());
        var after = wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 5)).ToArray());
        var segments = wal.Sources();
        Assert.True(straddling.Value / wal.SegmentSize < after.Value / wal.SegmentSize);

        var (records, _) = ReaderRun.ReadAll(segments.Skip(1));

        Assert.Equal(after, records[0].Lsn);
        Assert.Single(records);
    }

    [Fact]
    public void Xlog_switch_moves_to_the_next_segment_and_end_of_files_is_clean()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 1)).ToArray());
        var switchLsn = wal.Switch();
        var next = wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 2)).ToArray());
        wal.Switch();

        var (records, reader) = ReaderRun.ReadAll(wal.Sources());

        Assert.Equal(4, records.Count);
        Assert.Equal(switchLsn, records[1].Lsn);
        Assert.Equal(new Lsn(2 * wal.SegmentSize + 40), next);
        Assert.Equal(next, records[2].Lsn);
        Assert.Equal(WalReadEnd.EndOfFiles, reader.End);
        Assert.Equal(new Lsn(3 * wal.SegmentSize), reader.EndLsn);
    }

    [Fact]
    public void A_record_continuing_past_the_last_file_ends_reading_cleanly_before_it()
    {
        var wal = new WalBuilder();
        wal.FillSegment(bodySize: 3000);
        var straddling = wal.Add(21, 0, 0, new RecordBody().Main(Bytes(20000, 4)).ToArray());

        var (records, reader) = ReaderRun.ReadAll(wal.Sources().Take(1));

        Assert.DoesNotContain(records, r => r.Lsn == straddling);
        Assert.Equal(WalReadEnd.IncompleteRecord, reader.End);
        Assert.Equal(straddling, reader.EndLsn);
    }

    [Fact]
    public void StartLsn_leaves_out_earlier_records()
    {
        var wal = new WalBuilder();
        for (var i = 0; i < 10; i++) wal.Add(21, 0, (uint)i, new RecordBody().Main(Bytes(100, (byte)i)).ToArray());

        var (records, _) = ReaderRun.ReadAll(wal.Sources(), new WalReaderOptions { StartLsn = wal.RecordLsns[6] });

        Assert.Equal(wal.RecordLsns.Skip(6), records.Select(r => r.Lsn));
    }

    [Fact]
    public void A_bad_crc_is_a_typed_error_naming_file_offset_and_lsn()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(100, 1)).ToArray());
        var bad = wal.Add(21, 0, 0, new RecordBody().Main(Bytes(100, 2)).ToArray(), record => record[^1] ^= 0x40);

        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll(wal.Sources()));
        using var reader = new WalRecordReader(wal.Sources());
        Assert.True(reader.MoveNext());
        Assert.Throws<WalFormatException>(() => reader.MoveNext());
        Assert.Same(reader.Failure, Assert.Throws<WalFormatException>(() => reader.MoveNext()));

        Assert.Equal(WalErrorKind.BadCrc, error.Kind);
        Assert.Equal(bad, error.Lsn);
        Assert.Equal("000000010000000000000001", error.FileName);
        Assert.Equal((long)(bad.Value % wal.SegmentSize), error.FileOffset);
        Assert.Contains("000000010000000000000001", error.Message);
        Assert.Contains(bad.ToString(), error.Message);
    }

    [Fact]
    public void A_broken_previous_record_link_is_an_error()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 1)).ToArray());
        wal.AddRaw(WalBuilder.Encode(21, 0, 0, 0x1234, new RecordBody().Main(Bytes(10, 2)).ToArray()));

        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll(wal.Sources()));
        Assert.Equal(WalErrorKind.BadRecordHeader, error.Kind);
    }

    [Fact]
    public void A_missing_segment_is_a_gap()
    {
        var wal = new WalBuilder();
        for (var i = 0; i < 3; i++) wal.Switch();
        var sources = wal.Sources();

        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll([sources[0], sources[2]]));

        Assert.Equal(WalErrorKind.Gap, error.Kind);
        Assert.Equal(sources[2].FileName, error.FileName);
        Assert.Contains(sources[1].FileName, error.Message);
    }

    [Fact]
    public void A_segment_of_another_timeline_is_rejected()
    {
        var wal = new WalBuilder(timeline: 2);
        wal.Switch();
        var source = wal.Sources()[0];

        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll([source], new WalReaderOptions { Timeline = 1 }));
        Assert.Equal(WalErrorKind.UnexpectedTimeline, error.Kind);
    }

    [Fact]
    public void A_page_with_wrong_magic_is_rejected_at_its_offset()
    {
        var wal = new WalBuilder();
        for (var i = 0; i < 40; i++) wal.Add(21, 0, 0, new RecordBody().Main(Bytes(1000, (byte)i)).ToArray());
        var (name, bytes) = wal.Segments()[0];
        bytes[3 * 8192] = 0x17;

        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll([WalSegmentSource.FromMemory(name, bytes)]));

        Assert.Equal(WalErrorKind.BadMagic, error.Kind);
        Assert.Equal(3 * 8192, error.FileOffset);
        Assert.Equal(new Lsn(wal.SegmentSize + 3 * 8192), error.Lsn);
    }

    [Fact]
    public void A_wrong_page_address_is_rejected()
    {
        var wal = new WalBuilder();
        for (var i = 0; i < 40; i++) wal.Add(21, 0, 0, new RecordBody().Main(Bytes(1000, (byte)i)).ToArray());
        var (name, bytes) = wal.Segments()[0];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(2 * 8192 + 8), 0x4000);

        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll([WalSegmentSource.FromMemory(name, bytes)]));
        Assert.Equal(WalErrorKind.BadPageAddress, error.Kind);
    }

    [Fact]
    public void A_truncated_file_is_rejected_with_its_length()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 1)).ToArray());
        var (name, bytes) = wal.Segments()[0];

        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll([WalSegmentSource.FromMemory(name, bytes[..100_000])]));

        Assert.Equal(WalErrorKind.Truncated, error.Kind);
        Assert.Equal(100_000, error.FileOffset);
    }

    [Fact]
    public void A_record_length_beyond_reason_is_rejected_without_allocating_it()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 1)).ToArray());
        var lsn = wal.AddRaw(WalBuilder.Encode(21, 0, 0, 0, new RecordBody().Main(Bytes(10, 2)).ToArray()));
        for (var i = 0; i < 20; i++) wal.Add(21, 0, 0, new RecordBody().Main(Bytes(1000, 3)).ToArray());
        var (name, bytes) = wal.Segments()[0];
        var offset = (int)(lsn.Value % wal.SegmentSize);

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), 0x7FFF_FFFF);
        var tooLong = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll([WalSegmentSource.FromMemory(name, bytes)]));
        Assert.Equal(WalErrorKind.BadLength, tooLong.Kind);
        Assert.Equal(lsn, tooLong.Lsn);

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), 600_000_000);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var unconfirmed = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll([WalSegmentSource.FromMemory(name, bytes)]));
        Assert.Equal(WalErrorKind.BadContinuation, unconfirmed.Kind);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 50_000_000, "a 600 MB length must not be allocated up front");
    }

    [Fact]
    public void Zeros_before_later_files_are_a_gap_not_an_end()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 1)).ToArray());
        wal.Switch();
        wal.Add(21, 0, 0, new RecordBody().Main(Bytes(10, 1)).ToArray());
        var segments = wal.Segments();
        var first = segments[0].Bytes;
        // Overwrite the switch record with zeros: WAL seems to end in the first file.
        var switchOffset = (int)(wal.RecordLsns[1].Value % wal.SegmentSize);
        first.AsSpan(switchOffset, 24).Clear();

        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll(segments.Select(s => WalSegmentSource.FromMemory(s.Name, s.Bytes))));
        Assert.Equal(WalErrorKind.Gap, error.Kind);
    }

    [Fact]
    public void Spans_of_a_record_within_a_page_are_read_without_allocating()
    {
        var wal = new WalBuilder();
        for (var i = 0; i < 8000; i++)
            wal.Add(10, 0x00, (uint)i, new RecordBody().Block(0, Table, (uint)i, Bytes(40, 1)).Main(Bytes(3, 2)).ToArray());
        using var reader = new WalRecordReader(wal.Sources());
        // Warm up with the same code path (loads the segment, rents the buffer for page-crossing
        // records, lets the JIT settle), then measure.
        Assert.Equal(1000, Walk(reader, 1000, out _));

        // The least of three runs: on a loaded machine the runtime's own one-off work (tiering) can
        // land in one of them; an object per record would show in every run.
        var allocated = long.MaxValue;
        for (var run = 0; run < 3 && allocated >= 1000; run++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var count = Walk(reader, 2000, out var sum);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.Equal(2000, count);
            Assert.True(sum > 0);
        }

        // Any per-record object would cost at least 24 bytes each, 48 000 bytes per run here.
        Assert.True(allocated < 1000, $"{allocated} bytes allocated over 2000 records (least of three runs)");
    }

    private static int Walk(WalRecordReader reader, int records, out long sum)
    {
        sum = 0;
        var count = 0;
        while (count < records && reader.MoveNext())
        {
            sum += reader.Current.BlockData(0)[0] + reader.Current.MainData[0] + reader.Current.Block(0).Relation.RelNumber;
            count++;
        }

        return count;
    }
}
