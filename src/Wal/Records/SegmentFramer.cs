using DataSync.Wal.Segments;

namespace DataSync.Wal.Records;

/// <summary>
/// Frames the records that begin in one segment (<see cref="Frame"/>), so that several segments can be
/// checked and framed at once on different threads and handed, in order, to one
/// <see cref="FramedRecordReader"/> (and so to one <see cref="Changes.ChangeDecoder"/>).
/// </summary>
/// <remarks>
/// <para>The checks are the sequential <see cref="WalRecordReader"/>'s own (the same page walk,
/// <see cref="WalRecordLocator"/>, and the same record decoding): a record that begins in segment N and
/// ends in N+1 is read through into N+1 (and N+2... for a record longer than a segment), a leading tail
/// of a record from N-1 is skipped. What only the order can tell (the link of a segment's first record
/// to the previous segment's last, no segment missing or given twice) the reader checks.</para>
/// <para>Across a timeline switch, frame the copies <see cref="WalRecordReader.ChooseSegments"/> picks (a spool's
/// chosen segments are those), with the options the reader gets: a segment's pages may carry older timelines
/// (the copied part of a switch segment), an older timeline's copy is framed only up to where that timeline
/// ended (with the history), and a record crossing into the next segment is read from the copy the chain
/// would take there (the newest available timeline allowed for it).</para>
/// <para>Thread safety: <see cref="Frame"/> keeps no state between calls; call it from as many threads
/// as you like, for different segments or the same one.</para>
/// </remarks>
public sealed class SegmentFramer
{
    private readonly Func<string, WalSegmentSource?> _segmentNamed;
    private readonly WalReaderOptions _options;

    /// <param name="segmentNamed">
    /// The segment with this 24-hex-digit name (timeline, log, seg) if it is available, else null:
    /// asked for N+1, N+2... only when a record crosses into them, and for N+1 when N ends in zeros
    /// (which is then an error, as for the sequential reader). Called from the framing threads.
    /// </param>
    /// <param name="options">Timeline and block size as for <see cref="WalRecordReader"/>; <see cref="WalReaderOptions.StartLsn"/> is the reader's business.</param>
    public SegmentFramer(Func<string, WalSegmentSource?> segmentNamed, WalReaderOptions? options = null)
    {
        _segmentNamed = segmentNamed;
        _options = options ?? new WalReaderOptions();
        if (_options is { History: { } history, Timeline: { } asked } && asked != history.Timeline)
            throw new ArgumentException($"the history given is timeline {history.Timeline}'s, but timeline {asked} is to be read", nameof(options));
    }

    /// <summary>
    /// A framer whose following segments are looked up among <paramref name="sources"/> (a complete copy ahead of a
    /// <c>.partial</c> of the same name).
    /// </summary>
    public static SegmentFramer Over(IEnumerable<WalSegmentSource> sources, WalReaderOptions? options = null)
    {
        var byName = sources.GroupBy(s => s.Name.BaseName).ToDictionary(g => g.Key, g => g.FirstOrDefault(s => !s.Name.IsPartial) ?? g.First());
        return new SegmentFramer(name => byName.GetValueOrDefault(name), options);
    }

    /// <summary>The same lookup of following segments with other options (another run's timeline and history).</summary>
    public SegmentFramer With(WalReaderOptions options) => new(_segmentNamed, options);

    /// <summary>
    /// Reads and checks <paramref name="segment"/> and frames every record that begins in it. Bad input
    /// does not throw: it ends the framing and is kept as <see cref="FramedSegment.Failure"/>, to be
    /// thrown by the reader where the sequential reader would have thrown it. The caller owns the result
    /// (dispose it, or hand it to a <see cref="FramedRecordReader"/> / <see cref="Changes.ChangeDecoder"/>).
    /// </summary>
    /// <param name="segment">The segment to frame.</param>
    /// <param name="from">
    /// Invalid (the default) for every record that begins in the segment; else frame only from this
    /// record on: the <see cref="FramedSegment.EndLsn"/> of an earlier framing of the same segment that
    /// ended in <see cref="WalReadEnd.IncompleteRecord"/>, now that the next segment is available (the
    /// segment is then read again but not checked again before that record).
    /// </param>
    public FramedSegment Frame(WalSegmentSource segment, Lsn from = default)
    {
        var framed = new FramedSegment(segment);
        if (TimelineProblem(segment.Name) is { } problem)
        {
            // What the sequential reader's choice of segments refuses before reading anything.
            framed.Fail(problem);
            return framed;
        }

        var record = new WalRecord(_options.BlockSize);
        WalRecordLocator? locator = null;
        locator = new WalRecordLocator(i => i == 0 ? segment : SegmentAfter(locator!, i), _options.History, singleSegment: true, from);
        try
        {
            while (locator.Next())
            {
                if (framed.SegmentSize == 0)
                {
                    framed.SetHeader(locator.SegmentSize, locator.PageSize, locator.SystemIdentifier, segment.Name.Timeline);
                    // The records are stored into the buffer they are read from: one segment-size buffer per framed segment, not two.
                    framed.FrameInto(locator.TakeFirstSegmentBuffer());
                }

                var decodeProblem = record.Decode(locator.RecordBuffer, locator.RecordOffset, locator.RecordLength, locator.RecordLsn,
                    locator.RecordFileName, locator.RecordFileOffset, verifyCrc: true, out var kind);
                if (decodeProblem is not null)
                    throw new WalFormatException(kind, locator.RecordFileName, locator.RecordFileOffset, locator.RecordLsn, decodeProblem);
                var afterReset = locator.ChainReset;
                locator.Accept(record.PrevLsn);
                framed.Add(locator.RecordBuffer.AsSpan(locator.RecordOffset, (int)locator.RecordLength), locator.RecordLsn, locator.RecordEndLsn, afterReset);
            }

            framed.Finish(locator.End, locator.EndLsn, locator.ChainReset);
        }
        catch (WalFormatException e)
        {
            framed.Fail(e);
        }
        finally
        {
            if (framed.SegmentSize == 0 && locator.SegmentSize != 0)
                framed.SetHeader(locator.SegmentSize, locator.PageSize, locator.SystemIdentifier, segment.Name.Timeline);
            framed.SetPageTimelines(locator.FirstSegmentFirstPageTimeline, locator.FirstSegmentLastPageTimeline);
            locator.Dispose();
        }

        return framed;
    }

    /// <summary>
    /// Frames <paramref name="sources"/> (in segment order) with up to <paramref name="workers"/>
    /// segments in flight on the thread pool ahead of the one being consumed, and gives them in order
    /// through a <see cref="SegmentReorderBuffer"/>: a pool and its reorder step in one enumerable, for a
    /// plain caller such as a <see cref="Changes.ChangeDecoder"/> made from framed segments. The consumer
    /// owns each segment it is given; those framed ahead but never taken are disposed when the enumeration
    /// is. Bad input does not throw (see <see cref="Frame"/>); a framing that throws anyway throws here as soon as it ends.
    /// </summary>
    public IEnumerable<FramedSegment> FrameInOrder(IEnumerable<WalSegmentSource> sources, int workers = 2)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        var running = new List<(long Sequence, Task<FramedSegment> Framing)>(workers);
        using var ordered = new SegmentReorderBuffer(workers);
        using var next = sources.GetEnumerator();
        long started = 0;
        try
        {
            while (true)
            {
                // Framed but not yet given out (running or waiting) stays within the buffer's bound: nothing is refused.
                while (running.Count + ordered.Count < workers && next.MoveNext())
                {
                    var source = next.Current;
                    running.Add((started++, Task.Run(() => Frame(source))));
                }

                if (ordered.TakeNext() is { } segment)
                {
                    yield return segment;
                    continue;
                }

                if (running.Count == 0) yield break;
                var framings = new Task[running.Count];
                for (var i = 0; i < framings.Length; i++) framings[i] = running[i].Framing;
                // WaitAny never runs a task on this thread (waiting on one task not yet started would, putting
                // the framing back on the consuming thread).
                Task.WaitAny(framings);
                for (var i = running.Count - 1; i >= 0; i--)
                {
                    var (sequence, framing) = running[i];
                    if (!framing.IsCompleted) continue;
                    running.RemoveAt(i);
                    ordered.TryAdd(sequence, framing.GetAwaiter().GetResult());
                }
            }
        }
        finally
        {
            // Stopped early: wait for the framings still running so their pooled buffers go back.
            foreach (var (_, framing) in running)
            {
                try
                {
                    framing.GetAwaiter().GetResult().Dispose();
                }
                catch (Exception)
                {
                    // Its error would only have mattered to a consumer that no longer reads.
                }
            }
        }
    }

    /// <summary>The same refusals as <see cref="SegmentChain.Choose"/>'s for a file given.</summary>
    private WalFormatException? TimelineProblem(WalSegmentName name)
    {
        var target = _options.Timeline ?? _options.History?.Timeline;
        if (name.Timeline > target)
            return new WalFormatException(WalErrorKind.UnexpectedTimeline, name.ToString(), 0, Lsn.Invalid,
                $"segment belongs to timeline {name.Timeline}, newer than timeline {target} being read");
        if (_options.History is { } history && !history.Contains(name.Timeline))
            return new WalFormatException(WalErrorKind.UnexpectedTimeline, name.ToString(), 0, Lsn.Invalid,
                $"segment belongs to timeline {name.Timeline}, which is not in the history of timeline {target}");
        return null;
    }

    /// <summary>
    /// The segment after the <paramref name="index"/>-1st as the chain would take it: from the newest timeline allowed
    /// there (the history's owner of the segment, else the timeline asked for) down to the current file's, the first
    /// copy available; timelines never go backwards.
    /// </summary>
    private WalSegmentSource? SegmentAfter(WalRecordLocator locator, int index)
    {
        var number = locator.FirstSegmentNumber + (ulong)index;
        var current = locator.Timeline;
        var history = _options.History;
        var newest = history?.OwnerOfSegment(new Lsn(number * locator.SegmentSize), locator.SegmentSize) ?? _options.Timeline ?? current;
        for (var timeline = newest; timeline >= current && timeline > 0; timeline--)
        {
            if (history is not null && !history.Contains(timeline)) continue;
            if (_segmentNamed(WalSegmentName.Format(timeline, number, locator.SegmentSize)) is { } source) return source;
        }

        return null;
    }
}
