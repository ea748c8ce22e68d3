using System.Buffers.Binary;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using DataSync.Wal.Tests.Support;

namespace DataSync.Wal.Tests.Records;

/// <summary>The less common ways WAL ends or breaks off: a .partial segment with stale pages, and a record abandoned after a crash.</summary>
public class WalEndCasesTests
{
    private static byte[] Body(int length) => new RecordBody().Main(Enumerable.Range(0, length).Select(i => (byte)i).ToArray()).ToArray();

    [Fact]
    public void A_partial_segment_ends_cleanly_where_stale_recycled_pages_begin()
    {
        var wal = new WalBuilder();
        for (var i = 0; i < 40; i++) wal.Add(21, 0, 0, Body(1000));
        var (name, bytes) = wal.Segments()[0];
        // Page 3 onwards: an old segment's page, as a recycled file still holds it.
        var stalePage = 3 * 8192;
        bytes.AsSpan(stalePage).Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(stalePage), 0xD118);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(stalePage + 4), 1);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(stalePage + 8), (ulong)stalePage);
        var lastBefore = wal.RecordLsns.Last(l => l.Value % wal.SegmentSize < (ulong)stalePage - 1100);

        var (records, reader) = ReaderRun.ReadAll([WalSegmentSource.FromMemory(name + ".partial", bytes)]);

        Assert.Equal(WalReadEnd.StalePartialTail, reader.End);
        Assert.Contains(records, r => r.Lsn == lastBefore);

        // The same bytes under a complete segment's name are corrupt, not finished.
        var error = Assert.Throws<WalFormatException>(() => ReaderRun.ReadAll([WalSegmentSource.FromMemory(name, bytes)]));
        Assert.Equal(WalErrorKind.BadPageAddress, error.Kind);
        Assert.Equal(stalePage + 8, error.FileOffset);
    }

    [Fact]
    public void A_record_abandoned_at_a_crash_is_dropped_and_reading_goes_on_at_the_overwrite_record()
    {
        var wal = new WalBuilder();
        wal.Add(21, 0, 0, Body(7000));
        var abandoned = wal.Add(21, 0, 0, Body(5000)); // crosses into page 1
        var (name, bytes) = wal.Segments()[0];
        Assert.True(abandoned.Value % wal.SegmentSize < 8192);

        // Page 1 as the server writes it after crash recovery: no continuation, the overwrite flag,
        // an OVERWRITE_CONTRECORD record naming the abandoned record, then nothing yet.
        var page = bytes.AsSpan(8192);
        page[24..].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(page[2..], 0x0008 | 0x0004);
        BinaryPrimitives.WriteUInt32LittleEndian(page[16..], 0);
        var main = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(main, abandoned.Value);
        var overwrite = WalBuilder.Encode(0, 0xD0, 0, abandoned.Value, new RecordBody().Main(main).ToArray());
        overwrite.CopyTo(page[24..]);

        var (records, reader) = ReaderRun.ReadAll([WalSegmentSource.FromMemory(name, bytes)]);

        Assert.Equal(2, records.Count);
        Assert.DoesNotContain(records, r => r.Lsn == abandoned);
        Assert.Equal(new Lsn(wal.SegmentSize + 8192 + 24), records[1].Lsn);
        Assert.Equal(0xD0, records[1].Info);
        Assert.Equal(WalReadEnd.ZeroedTail, reader.End);
    }
}
