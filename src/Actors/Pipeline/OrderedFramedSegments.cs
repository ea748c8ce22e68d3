using Akka.Actor;
using DataSync.Messages.Pipeline;
using DataSync.Wal.Records;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The reorder step between the decoder pool and reassembly: asks the pool for the segments in WAL order,
/// keeps a bounded number in flight (each holds about a segment of pooled memory), and hands them out
/// strictly in order, whichever decoder finishes first. Segments asked for but never taken are disposed.
/// </summary>
public sealed class OrderedFramedSegments(IActorRef pool, int ahead)
{
    private static readonly TimeSpan FrameTimeout = TimeSpan.FromMinutes(10);

    /// <param name="segments">The chosen copies, in WAL order (StreamDecoding.SegmentsFrom).</param>
    /// <param name="options">The options the reader of these segments gets (timeline and history after a switch).</param>
    public IEnumerable<FramedSegment> Over(IReadOnlyList<string> segments, WalReaderOptions? options = null)
    {
        var pending = new Queue<Task<SegmentFramed>>();
        var next = 0;
        try
        {
            while (next < segments.Count || pending.Count > 0)
            {
                while (next < segments.Count && pending.Count < Math.Max(1, ahead))
                    pending.Enqueue(pool.Ask<SegmentFramed>(new FrameSegment(segments[next++], options), FrameTimeout));

                // The consumer is the stream's own task, off every actor thread: waiting here blocks nothing the pool needs.
                yield return pending.Dequeue().GetAwaiter().GetResult().Segment;
            }
        }
        finally
        {
            foreach (var left in pending)
            {
                left.ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully) t.Result.Segment.Dispose();
                }, TaskScheduler.Default);
            }
        }
    }
}
