using System.Buffers.Binary;
using DataSync.Wal.Checksums;
using DataSync.Wal.Pages;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Tests.Support;

/// <summary>
/// Writes synthetic WAL exactly as PostgreSQL lays it out: page headers (long on a segment's first
/// page), records 8-byte aligned, continuation pages with their remaining-length field, CRC-32C,
/// the previous-record chain, and zeros after XLOG SWITCH. Lets tests build any shape of WAL
/// without a server.
/// </summary>
public sealed class WalBuilder
{
    public const ulong SystemId = 0x7000_1234_5678_9ABC;

    private readonly Dictionary<ulong, byte[]> _segments = [];
    private ulong _position;
    private ulong _previous;
    private uint _recordRemaining;
    private bool _inRecord;

    public WalBuilder(uint segmentSize = 1 << 20, uint pageSize = 8192, uint timeline = 1, ulong firstSegment = 1)
    {
        SegmentSize = segmentSize;
        PageSize = pageSize;
        Timeline = timeline;
        _position = firstSegment * segmentSize;
        FirstSegment = firstSegment;
    }

    public uint SegmentSize { get; }
    public uint PageSize { get; }
    public uint Timeline { get; }
    public ulong FirstSegment { get; }
    public Lsn Position => new(_position);
    public List<Lsn> RecordLsns { get; } = [];

    /// <summary>Appends a record; returns its LSN.</summary>
    public Lsn Add(byte rmid, byte info, uint xid, byte[] body, Action<byte[]>? tamper = null)
    {
        var record = Encode(rmid, info, xid, _previous, body);
        tamper?.Invoke(record);
        return AddRaw(record);
    }

    /// <summary>Appends already encoded record bytes as they are.</summary>
    public Lsn AddRaw(byte[] record)
    {
        _position = (_position + 7) & ~7UL;
        if (_position % PageSize == 0) WritePageHeaderIfNeeded();
        var lsn = new Lsn(_position);
        _recordRemaining = (uint)record.Length;
        _inRecord = true;
        Write(record);
        _inRecord = false;
        _previous = lsn.Value;
        RecordLsns.Add(lsn);
        return lsn;
    }

    public static byte[] Encode(byte rmid, byte info, uint xid, ulong previous, byte[] body)
    {
        var record = new byte[24 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)record.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), xid);
        BinaryPrimitives.WriteUInt64LittleEndian(record.AsSpan(8), previous);
        record[16] = info;
        record[17] = rmid;
        body.CopyTo(record, 24);
        FixCrc(record);
        return record;
    }

    public static void FixCrc(byte[] record)
    {
        var crc = Crc32C.Finish(Crc32C.Append(Crc32C.Append(Crc32C.Initial, record.AsSpan(24)), record.AsSpan(0, 20)));
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(20), crc);
    }

    /// <summary>XLOG SWITCH: the rest of the segment stays zero and WAL goes on in the next one.</summary>
    public Lsn Switch()
    {
        var lsn = Add(0, 0x40, 0, []);
        _position = (_position / SegmentSize + 1) * SegmentSize;
        return lsn;
    }

    /// <summary>
    /// A promotion here: a builder for <paramref name="timeline"/> that goes on from the next record position (the
    /// switch point), its first segment a copy of this one's current segment up to there with zeros after, as
    /// PostgreSQL starts a new timeline. The copied pages keep this timeline's number. This builder may go on
    /// writing too, as an old primary that was not stopped would.
    /// </summary>
    public WalBuilder Branch(uint timeline)
    {
        var switchPoint = (_position + 7) & ~7UL;
        var number = switchPoint / SegmentSize;
        var branch = new WalBuilder(SegmentSize, PageSize, timeline, number) { _position = switchPoint, _previous = _previous };
        if (switchPoint % SegmentSize != 0)
        {
            var copy = new byte[SegmentSize];
            Segment(number).AsSpan(0, (int)(switchPoint % SegmentSize)).CopyTo(copy);
            branch._segments[number] = copy;
        }

        return branch;
    }

    /// <summary>Fills the current segment with filler records until it is (nearly) full.</summary>
    public void FillSegment(int bodySize = 200)
    {
        var segment = _position / SegmentSize;
        while ((_position + (ulong)bodySize + 64) / SegmentSize == segment)
            Add(0, 0x20, 0, new RecordBody().Main(new byte[bodySize]).ToArray());
    }

    /// <summary>The segments written so far, named on this builder's timeline; the last one zero-filled after the end.</summary>
    public IReadOnlyList<(string Name, byte[] Bytes)> Segments() =>
        _segments.OrderBy(s => s.Key).Select(s => (WalSegmentName.Format(Timeline, s.Key, SegmentSize), s.Value)).ToList();

    public IReadOnlyList<WalSegmentSource> Sources() =>
        Segments().Select(s => (WalSegmentSource)WalSegmentSource.FromMemory(s.Name, s.Bytes)).ToList();

    private void Write(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_position % PageSize == 0) WritePageHeaderIfNeeded();
            var segment = Segment(_position / SegmentSize);
            var offset = (int)(_position % SegmentSize);
            var room = (int)(PageSize - _position % PageSize);
            var n = Math.Min(room, bytes.Length);
            bytes[..n].CopyTo(segment.AsSpan(offset));
            bytes = bytes[n..];
            _position += (ulong)n;
            _recordRemaining -= (uint)n;
        }
    }

    private void WritePageHeaderIfNeeded()
    {
        var segment = Segment(_position / SegmentSize);
        var offset = (int)(_position % SegmentSize);
        var isLong = offset == 0;
        var continuing = _inRecord && _recordRemaining > 0;
        var flags = (ushort)((isLong ? WalPageFlags.LongHeader : 0) | (continuing ? WalPageFlags.FirstIsContinuation : 0) | WalPageFlags.BackupRemovable);
        var page = segment.AsSpan(offset);
        BinaryPrimitives.WriteUInt16LittleEndian(page, WalPageHeader.Pg18Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(page[2..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(page[4..], Timeline);
        BinaryPrimitives.WriteUInt64LittleEndian(page[8..], _position);
        BinaryPrimitives.WriteUInt32LittleEndian(page[16..], continuing ? _recordRemaining : 0);
        if (isLong)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(page[24..], SystemId);
            BinaryPrimitives.WriteUInt32LittleEndian(page[32..], SegmentSize);
            BinaryPrimitives.WriteUInt32LittleEndian(page[36..], PageSize);
        }

        _position += (ulong)(isLong ? WalPageHeader.LongSize : WalPageHeader.ShortSize);
    }

    private byte[] Segment(ulong number)
    {
        if (!_segments.TryGetValue(number, out var segment))
        {
            segment = new byte[SegmentSize];
            _segments[number] = segment;
        }

        return segment;
    }
}
