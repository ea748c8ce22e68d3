namespace DataSync.Core.Sync;

/// <summary>
/// Bounds the garbage a long catch-up leaves in the heap's oldest generation. The collector's youngest generation is
/// small (about 2 MiB a collection on the 2-core benchmark machine), so the row images of a round, which live until the
/// round is merged, outlive it and die in generation 2; the collector lets that generation grow by a budget that follows
/// its size before it collects it again, and the process's resident memory grows with that garbage (the bulk catch-up's
/// peak, docs/benchmarks.md). Once the heap has grown by <see cref="Growth"/> since the last full collection, a background
/// one is asked for: it runs beside the stream, and the regions it frees are reused instead of new ones being committed.
/// </summary>
public static class HeapBound
{
    /// <summary>How much the heap may grow past what the last full collection left before the next one is asked for.</summary>
    public const long Growth = 48L << 20;

    // The index of the last full collection when one was asked for: no second is asked until a newer one has ended.
    private static long _askedAfter = -1;

    /// <summary>Asks for a background full collection when the heap has grown by <see cref="Growth"/> since the last; returns whether it asked.</summary>
    public static bool Keep()
    {
        var background = GC.GetGCMemoryInfo(GCKind.Background);
        var blocking = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        var last = background.Index >= blocking.Index ? background : blocking;
        if (Interlocked.Read(ref _askedAfter) == last.Index) return false;
        if (GC.GetTotalMemory(forceFullCollection: false) - last.HeapSizeBytes < Growth) return false;
        Interlocked.Exchange(ref _askedAfter, last.Index);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: false, compacting: false);
        return true;
    }
}
