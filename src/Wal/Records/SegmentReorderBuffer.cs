namespace DataSync.Wal.Records;

/// <summary>
/// Holds <see cref="FramedSegment"/>s that arrive in any order (from a pool of framers) and gives them back in
/// order, one after the other, to the single stage that reassembles transactions: the one reordering step
/// between parallel framing and sequential decoding (<see cref="SegmentFramer.FrameInOrder"/> uses it, and so
/// can an actor).
/// </summary>
/// <remarks>
/// <para>Order is by sequence number, given with each segment: the position of the segment in the list the
/// caller asked to be framed (the chosen copies, which across a timeline switch may hold two files of the same
/// segment number), counted from the first sequence number the buffer was made with.</para>
/// <para>Bounded: it holds at most <see cref="Capacity"/> segments, those from <see cref="NextSequence"/> on, each
/// about a segment of pooled memory. A caller that asks for no segment beyond <see cref="NextSequence"/> +
/// <see cref="Capacity"/> - 1 never sees one refused for the bound.</para>
/// <para>Not thread-safe: one owner (an actor, or the enumerating thread) adds and takes. It owns what it holds:
/// a segment refused by <see cref="TryAdd"/>, and those waiting at <see cref="Reset"/> or <see cref="Dispose"/>,
/// are disposed (their buffers go back to the pool); a segment taken is the taker's.</para>
/// </remarks>
public sealed class SegmentReorderBuffer : IDisposable
{
    private readonly FramedSegment?[] _slots;

    /// <param name="capacity">How many segments it may hold at once (the framers' lead on the consumer).</param>
    /// <param name="firstSequence">The sequence number of the first segment to give out.</param>
    public SegmentReorderBuffer(int capacity, long firstSequence = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(firstSequence);
        _slots = new FramedSegment?[capacity];
        NextSequence = firstSequence;
    }

    /// <summary>How many segments it may hold at once.</summary>
    public int Capacity => _slots.Length;

    /// <summary>The sequence number <see cref="TakeNext"/> gives next.</summary>
    public long NextSequence { get; private set; }

    /// <summary>Segments held, waiting for one before them (or to be taken).</summary>
    public int Count { get; private set; }

    /// <summary>Record bytes held by the segments waiting (what a bound on memory would look at).</summary>
    public long BufferedBytes { get; private set; }

    /// <summary>Whether a segment with this sequence number would be taken in now (not given out already, not here already, within the bound).</summary>
    public bool CanAccept(long sequence) => Admit(sequence) == SegmentAdmission.Accepted;

    /// <summary>
    /// Takes in the segment with sequence number <paramref name="sequence"/>, in any order. A segment given out already,
    /// here already, or beyond the bound is refused and disposed; the answer says which.
    /// </summary>
    public SegmentAdmission TryAdd(long sequence, FramedSegment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var admission = Admit(sequence);
        if (admission != SegmentAdmission.Accepted)
        {
            segment.Dispose();
            return admission;
        }

        _slots[Slot(sequence)] = segment;
        Count++;
        BufferedBytes += segment.RecordBytesTotal;
        return admission;
    }

    /// <summary>The next segment in order if it has arrived, else null; the caller owns it.</summary>
    public FramedSegment? TakeNext()
    {
        var slot = Slot(NextSequence);
        if (_slots[slot] is not { } segment) return null;
        _slots[slot] = null;
        Count--;
        BufferedBytes -= segment.RecordBytesTotal;
        NextSequence++;
        return segment;
    }

    /// <summary>Drops (disposes) every segment held and starts again at <paramref name="nextSequence"/>, e.g. when the stream restarts elsewhere.</summary>
    public void Reset(long nextSequence)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(nextSequence);
        DropAll();
        NextSequence = nextSequence;
    }

    public void Dispose() => DropAll();

    private SegmentAdmission Admit(long sequence)
    {
        if (sequence < NextSequence) return SegmentAdmission.GivenOutAlready;
        if (sequence - NextSequence >= _slots.Length) return SegmentAdmission.BeyondBound;
        return _slots[Slot(sequence)] is null ? SegmentAdmission.Accepted : SegmentAdmission.HereAlready;
    }

    // The window [NextSequence, NextSequence + Capacity) maps onto the slots one to one.
    private int Slot(long sequence) => (int)(sequence % _slots.Length);

    private void DropAll()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i]?.Dispose();
            _slots[i] = null;
        }

        Count = 0;
        BufferedBytes = 0;
    }
}
