using DataSync.Wal.Segments;

namespace DataSync.Core.Sync;

/// <summary>
/// Gives memory back to the operating system once the stream has gone quiet after work: the idle segment buffers are
/// let go, one full compacting collection in the collector's aggressive mode decommits what the heap no longer
/// needs (a collection only comes with allocations, and a quiet daemon allocates next to nothing, so without it the
/// memory of the last catch-up would stay resident until the next one), and the C library's allocator gives back the
/// free pages of its arenas (<see cref="NativeHeap"/>).
/// </summary>
/// <remarks>
/// The driver asks only after a quiet moment (<see cref="QuietFor"/> without a segment to decode), so a busy stream
/// never pays for it and a quiet one pays once: one blocking collection of a heap of a few tens of MiB.
/// </remarks>
public static class IdleMemory
{
    /// <summary>How long the stream has nothing to do before memory is given back.</summary>
    public static TimeSpan QuietFor { get; } = TimeSpan.FromSeconds(2);

    /// <summary>Lets go of the idle segment buffers, collects everything decommitting what is free, and trims the native heap. Returns the buffers let go.</summary>
    public static int Release()
    {
        var dropped = SegmentBuffers.Shared.Trim();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        NativeHeap.Trim();
        return dropped;
    }
}
