using DataSync.Wal.Checksums;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Tests.Segments;

public class SegmentNameAndHistoryTests
{
    [Fact]
    public void Crc32C_matches_the_standard_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
        // Continuing over pieces gives the same as one pass, whatever the split.
        var data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 31)).ToArray();
        for (var split = 0; split < 40; split++)
            Assert.Equal(Crc32C.Compute(data), Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Initial, data.AsSpan(0, split)), data.AsSpan(split))));
    }

    [Fact]
    public void Crc32C_over_long_inputs_matches_a_bit_by_bit_reference()
    {
        var random = new Random(99);
        foreach (var length in new[] { 1535, 1536, 1537, 3072, 4000, 8192, 8241, 20001 })
        {
            var data = new byte[length];
            random.NextBytes(data);
            Assert.Equal(BitwiseCrc32C(data), Crc32C.Compute(data));
            var split = random.Next(length);
            Assert.Equal(BitwiseCrc32C(data), Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Initial, data.AsSpan(0, split)), data.AsSpan(split))));
        }
    }

    [Fact]
    public void The_record_header_shortcut_equals_the_general_loop()
    {
        var header = Enumerable.Range(0, 24).Select(i => (byte)(i * 37 + 5)).ToArray();
        Assert.Equal(Crc32C.Append(0x1234_5678, header.AsSpan(0, 20)), Crc32C.AppendRecordHeader(0x1234_5678, header));
    }

    private static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }

        return ~crc;
    }

    [Theory]
    [InlineData("000000010000000000000005", 1u, 0u, 5u, false, "", 0x5000000UL)]
    [InlineData("0000000200000003000000FF.partial", 2u, 3u, 0xFFu, true, "", 0x3FF000000UL)]
    [InlineData("000000010000000A00000001.zst", 1u, 10u, 1u, false, ".zst", 0xA01000000UL)]
    [InlineData("000000010000000000000001.partial.gz", 1u, 0u, 1u, true, ".gz", 0x1000000UL)]
    public void Segment_names_parse_into_timeline_and_position(string fileName, uint timeline, uint log, uint seg, bool partial, string suffix, ulong start)
    {
        Assert.True(WalSegmentName.TryParse(fileName, out var name));
        Assert.Equal(new WalSegmentName(timeline, log, seg, partial, suffix), name);
        Assert.Equal(new Lsn(start), name.StartLsn(16 * 1024 * 1024));
        Assert.Equal(fileName, name.ToString());
    }

    [Theory]
    [InlineData("00000001000000000000005")]
    [InlineData("00000001000000000000000g")]
    [InlineData("000000010000000000000005.bz2")]
    [InlineData("00000001.history")]
    [InlineData("000000010000000000000006.00000060.backup")]
    public void Other_names_are_not_segments(string fileName) => Assert.False(WalSegmentName.TryParse(fileName, out _));

    [Fact]
    public void Segment_numbers_depend_on_the_segment_size()
    {
        Assert.True(WalSegmentName.TryParse("000000010000000100000003", out var name));
        Assert.Equal(256UL + 3, name.SegmentNumber(16 * 1024 * 1024));
        Assert.Equal(4096UL + 3, name.SegmentNumber(1024 * 1024));
        Assert.Equal("000000010000000100000003", WalSegmentName.Format(1, 4096 + 3, 1024 * 1024));
    }

    [Fact]
    public void Timeline_history_gives_the_timeline_of_every_lsn()
    {
        var history = TimelineHistory.Parse("00000003.history", "# comment\n1\t0/40011F0\tafter LSN 0/40011A8\n\n2\t0/9000000\tno recovery target specified\n");

        Assert.Equal(3u, history.Timeline);
        Assert.Equal(2, history.Entries.Count);
        Assert.Equal(new TimelineHistory.Entry(1, Lsn.Parse("0/40011F0"), "after LSN 0/40011A8"), history.Entries[0]);
        Assert.Equal(1u, history.TimelineOf(Lsn.Parse("0/40011EF")));
        Assert.Equal(2u, history.TimelineOf(Lsn.Parse("0/40011F0")));
        Assert.Equal(3u, history.TimelineOf(Lsn.Parse("0/9000000")));
    }

    [Theory]
    [InlineData("00000002.history", "1\tnot-an-lsn\treason\n")]
    [InlineData("00000002.history", "2\t0/100\tparent not older\n")]
    [InlineData("00000003.history", "2\t0/200\tx\n1\t0/100\tbackwards\n")]
    [InlineData("0000002.history", "1\t0/100\tx\n")]
    public void Malformed_history_is_a_typed_error(string name, string text) =>
        Assert.Throws<WalFormatException>(() => TimelineHistory.Parse(name, text));

    [Fact]
    public void Backup_history_file_gives_start_stop_and_checkpoint()
    {
        const string text = """
            START WAL LOCATION: 0/6000060 (file 000000010000000000000006)
            STOP WAL LOCATION: 0/6000158 (file 000000010000000000000006)
            CHECKPOINT LOCATION: 0/60000B8
            BACKUP METHOD: streamed
            BACKUP FROM: primary
            START TIME: 2026-11-25 15:24:14 UTC
            LABEL: lowlevel
            START TIMELINE: 1
            STOP TIME: 2026-11-25 15:24:15 UTC
            STOP TIMELINE: 1

            """;

        var backup = BackupHistoryFile.Parse("000000010000000000000006.00000060.backup", text);

        Assert.Equal(Lsn.Parse("0/6000060"), backup.StartLsn);
        Assert.Equal("000000010000000000000006", backup.StartSegment);
        Assert.Equal(Lsn.Parse("0/6000158"), backup.StopLsn);
        Assert.Equal(Lsn.Parse("0/60000B8"), backup.CheckpointLsn);
        Assert.Equal((1u, 1u), (backup.StartTimeline, backup.StopTimeline));
        Assert.Equal("lowlevel", backup.Label);

        var missing = Assert.Throws<WalFormatException>(() => BackupHistoryFile.Parse("000000010000000000000006.00000060.backup", "START WAL LOCATION: 0/6000060 (file x)\n"));
        Assert.Contains("STOP WAL LOCATION", missing.Message);
    }

    [Theory]
    // An end position exactly at a segment boundary closes the segment before (the bootstrap's replay point after a
    // switch: the archive ends at ...06, and ...07 may not exist yet); anywhere inside a segment both agree.
    [InlineData("0/7000000", 16u << 20, "000000010000000000000006", "000000010000000000000007")]
    [InlineData("0/7000001", 16u << 20, "000000010000000000000007", "000000010000000000000007")]
    [InlineData("0/6FFFFFF", 16u << 20, "000000010000000000000006", "000000010000000000000006")]
    [InlineData("1/0", 16u << 20, "0000000100000000000000FF", "000000010000000100000000")]
    [InlineData("0/4000000", 1u << 20, "00000001000000000000003F", "000000010000000000000040")]
    public void An_end_position_at_a_segment_boundary_belongs_to_the_segment_before(string lsn, uint segmentSize, string ofEnd, string ofStart)
    {
        Assert.Equal(ofEnd, WalSegmentName.OfEnd(1, Lsn.Parse(lsn), segmentSize));
        Assert.Equal(ofStart, WalSegmentName.OfStart(1, Lsn.Parse(lsn), segmentSize));
    }
}
