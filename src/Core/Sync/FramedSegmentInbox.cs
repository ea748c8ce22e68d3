using DataSync.Wal.Records;

namespace DataSync.Core.Sync;

/// <summary>
/// Where framers leave the segments they framed for a <see cref="LiveStream"/>, so the pooled memory of a framed
/// segment never travels inside a message: a framer deposits the segment here and says so with a plain message, and
/// the stream collects it. Deposits may come from any thread. Once the stream is gone (disposed) a segment deposited
/// late is disposed at once, so its buffers go back to the pool whatever happens to the message.
/// </summary>
public sealed class FramedSegmentInbox : IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(long Epoch, long Sequence), FramedSegment> _held = [];
    private bool _closed;

    /// <summary>Leaves the segment framed for <paramref name="request"/>; the inbox owns it from now on.</summary>
    public void Deposit(SegmentRequest request, FramedSegment segment)
    {
        lock (_gate)
        {
            if (!_closed && _held.TryAdd((request.Epoch, request.Sequence), segment)) return;
        }

        segment.Dispose();
    }

    /// <summary>The segment deposited for <paramref name="request"/>, now the caller's; null when there is none.</summary>
    public FramedSegment? Take(SegmentRequest request)
    {
        lock (_gate) return _held.Remove((request.Epoch, request.Sequence), out var segment) ? segment : null;
    }

    /// <summary>Disposes what is held and every segment deposited from now on.</summary>
    public void Dispose()
    {
        List<FramedSegment> held;
        lock (_gate)
        {
            _closed = true;
            held = [.. _held.Values];
            _held.Clear();
        }

        foreach (var segment in held) segment.Dispose();
    }
}
