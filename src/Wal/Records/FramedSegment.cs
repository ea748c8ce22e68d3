using System.Buffers;
using System.Numerics;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Records;

/// <summary>
/// The records that begin in one WAL segment, already checked (page headers, continuations, lengths,
/// CRC, block reference headers) and stored back to back without their page headers, made by
/// <see cref="SegmentFramer.Frame"/> and consumed, in segment order, by <see cref="FramedRecordReader"/>.
/// </summary>
/// <remarks>
/// <para>The bytes live in a buffer rented from <see cref="SegmentBuffers"/> (the one the segment was read into: it is
/// framed in place), the record index in one from a small pool of its own:
/// whoever holds the segment owns them and must <see cref="Dispose"/> it (a reader it was handed to
/// disposes it once past its last record). Keep it inside the process; it is not a message to
/// serialize or persist.</para>
/// <para>How framing stopped is <see cref="End"/> / <see cref="Failure"/>: a segment is
/// <see cref="IsComplete"/> when every record that begins in it is here and WAL goes on in the next
/// segment; otherwise valid WAL ends in it (at <see cref="EndLsn"/>), or bad input stopped framing after
/// the records here and <see cref="Failure"/> is what the sequential reader would have thrown there.</para>
/// </remarks>
public sealed class FramedSegment : IDisposable
{
    private const int FirstIndexCapacity = 4096;

    // The record indexes come from a pool of their own, a few arrays per size: the shared pool keeps many per core, and
    // the daemon frames one or two segments at a time. A new index starts at the size the last segment needed.
    private static readonly ArrayPool<Entry> IndexPool = ArrayPool<Entry>.Create(maxArrayLength: 1 << 24, maxArraysPerBucket: 3);
    private static int s_indexCapacityHint = FirstIndexCapacity;

    private byte[] _data = [];
    private Entry[] _entries = [];
    private int _used;

    internal FramedSegment(WalSegmentSource source)
    {
        Name = source.Name;
        FileName = source.FileName;
    }

    private struct Entry
    {
        public ulong Lsn;
        public ulong EndLsn;
        public int Offset;
        public uint Length;
    }

    public WalSegmentName Name { get; }

    /// <summary>The file name (without directory), as errors name it.</summary>
    public string FileName { get; }

    /// <summary>From the segment's long page header; 0 when the file could not be opened.</summary>
    public uint SegmentSize { get; private set; }
    public uint PageSize { get; private set; }
    public ulong SystemIdentifier { get; private set; }
    /// <summary>The file's timeline (its pages may carry older ones, copied at a switch).</summary>
    public uint Timeline { get; private set; }

    /// <summary>The timelines of this segment's own first and last page checked (0 when none was).</summary>
    internal uint FirstPageTimeline { get; private set; }
    internal uint LastPageTimeline { get; private set; }

    /// <summary>WAL position of the segment's first byte; invalid when the file could not be opened.</summary>
    public Lsn SegmentStart => SegmentSize == 0 ? Lsn.Invalid : Name.StartLsn(SegmentSize);

    public int RecordCount { get; private set; }

    /// <summary>Bytes of all records together (without page headers or alignment padding).</summary>
    public long RecordBytesTotal => _used;

    /// <summary>
    /// <see cref="WalReadEnd.EndOfFiles"/>: every record that begins here is framed and the next begins
    /// at <see cref="EndLsn"/> (at or after the end of this segment). <see cref="WalReadEnd.IncompleteRecord"/>:
    /// the record at <see cref="EndLsn"/> continues into a segment not yet available (frame this segment
    /// again once it is). <see cref="WalReadEnd.ZeroedTail"/> / <see cref="WalReadEnd.StalePartialTail"/>:
    /// valid WAL ends at <see cref="EndLsn"/>. <see cref="WalReadEnd.TimelineEnded"/>: an older timeline's copy, whose
    /// timeline ended at <see cref="EndLsn"/>. <see cref="WalReadEnd.None"/> when <see cref="Failure"/> stopped it.
    /// </summary>
    public WalReadEnd End { get; private set; }

    public Lsn EndLsn { get; private set; }

    /// <summary>Bad input found after the framed records (in this file or the next one a crossing record reaches into).</summary>
    public WalFormatException? Failure { get; private set; }

    /// <summary>True when the records of the next segment follow these with nothing missing.</summary>
    public bool IsComplete => Failure is null && End == WalReadEnd.EndOfFiles;

    /// <summary>Whether the first record here follows a record that was abandoned (overwritten after a crash), so it does not link to the record before it.</summary>
    internal bool FirstRecordAfterReset { get; private set; }

    /// <summary>Whether a record was abandoned after the last record here.</summary>
    internal bool EndsWithReset { get; private set; }

    public Lsn RecordLsn(int index) => new(EntryAt(index).Lsn);

    /// <summary>Where the record after it begins, as <see cref="WalRecord.EndLsn"/>.</summary>
    public Lsn RecordEndLsn(int index) => new(EntryAt(index).EndLsn);

    /// <summary>The record's bytes (header included), valid until <see cref="Dispose"/>.</summary>
    public ReadOnlySpan<byte> RecordBytes(int index)
    {
        ref readonly var entry = ref EntryAt(index);
        return _data.AsSpan(entry.Offset, (int)entry.Length);
    }

    /// <summary>Decodes the record's header and block references into <paramref name="record"/> without checking its CRC again.</summary>
    internal void DecodeInto(int index, WalRecord record)
    {
        ref readonly var entry = ref EntryAt(index);
        var lsn = new Lsn(entry.Lsn);
        var fileOffset = (long)(entry.Lsn - SegmentStart.Value);
        var problem = record.Decode(_data, entry.Offset, entry.Length, lsn, FileName, fileOffset, verifyCrc: false, out var kind);
        // Framing decoded the same bytes successfully; a problem now means the buffer was reused while still in use.
        if (problem is not null) throw new WalFormatException(kind, FileName, fileOffset, lsn, problem);
        record.EndLsn = new Lsn(entry.EndLsn);
    }

    private ref readonly Entry EntryAt(int index)
    {
        ObjectDisposedException.ThrowIf(_entries.Length == 0 && RecordCount > 0, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)RecordCount, nameof(index));
        return ref _entries[index];
    }

    internal void SetHeader(uint segmentSize, uint pageSize, ulong systemIdentifier, uint timeline)
    {
        SegmentSize = segmentSize;
        PageSize = pageSize;
        SystemIdentifier = systemIdentifier;
        Timeline = timeline;
    }

    internal void SetPageTimelines(uint first, uint last)
    {
        FirstPageTimeline = first;
        LastPageTimeline = last;
    }

    /// <summary>
    /// Frames in place: the records are stored into <paramref name="segmentBuffer"/>, the buffer the segment is being
    /// read from (a segment-size one from <see cref="SegmentBuffers"/>, owned by this segment from now on). Each record
    /// is written at or before where it was read (page headers and padding are left out), so only bytes already read
    /// are overwritten, and the segment never needs a second buffer of its size.
    /// </summary>
    internal void FrameInto(byte[] segmentBuffer)
    {
        if (_data.Length > 0 || RecordCount > 0) throw new InvalidOperationException("a segment is framed in place from its first record");
        _data = segmentBuffer;
    }

    internal void Add(ReadOnlySpan<byte> bytes, Lsn lsn, Lsn endLsn, bool afterReset)
    {
        if (RecordCount == 0) FirstRecordAfterReset = afterReset;
        if (_used + bytes.Length > _data.Length)
            // A segment's records fit in the segment size, but for the one that crosses into the next segment.
            GrowData(Math.Max(_used + bytes.Length, Math.Max((int)SegmentSize, _data.Length * 2)));
        if (RecordCount == _entries.Length)
            GrowIndex(_entries.Length == 0 ? Volatile.Read(ref s_indexCapacityHint) : _entries.Length * 2);
        // In place, the bytes may overlap where they go (a record within one page, moved back over the headers before it).
        bytes.CopyTo(_data.AsSpan(_used));
        _entries[RecordCount++] = new Entry { Lsn = lsn.Value, EndLsn = endLsn.Value, Offset = _used, Length = (uint)bytes.Length };
        _used += bytes.Length;
    }

    internal void Finish(WalReadEnd end, Lsn endLsn, bool endsWithReset)
    {
        End = end;
        EndLsn = endLsn;
        EndsWithReset = endsWithReset;
    }

    internal void Fail(WalFormatException failure) => Failure = failure;

    private void GrowData(int size)
    {
        var grown = size == SegmentSize ? SegmentBuffers.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
        _data.AsSpan(0, _used).CopyTo(grown);
        ReturnData();
        _data = grown;
    }

    /// <summary>Only a buffer of the segment size goes back to the pool; a larger one (a crossing record did not fit) is left to the collector.</summary>
    private void ReturnData()
    {
        if (_data.Length == SegmentSize) SegmentBuffers.Shared.Return(_data);
    }

    private void GrowIndex(int size)
    {
        var grown = IndexPool.Rent(Math.Max(FirstIndexCapacity, size));
        _entries.AsSpan(0, RecordCount).CopyTo(grown);
        if (_entries.Length > 0) IndexPool.Return(_entries);
        _entries = grown;
    }

    /// <summary>Returns the buffers to the pool; the record accessors must not be used afterwards.</summary>
    public void Dispose()
    {
        ReturnData();
        if (_entries.Length > 0)
        {
            if (RecordCount > FirstIndexCapacity) Volatile.Write(ref s_indexCapacityHint, (int)BitOperations.RoundUpToPowerOf2((uint)RecordCount));
            IndexPool.Return(_entries);
        }

        _data = [];
        _entries = [];
    }
}
