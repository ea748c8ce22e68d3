using DataSync.Core.Sync;

namespace DataSync.Core.Tests.Sync;

/// <summary>
/// The stream asks for a background full collection once the heap has grown by <see cref="HeapBound.Growth"/> since the
/// last one, and asks no second time before that collection has ended.
/// </summary>
public sealed class HeapBoundTests
{
    [Fact]
    public void A_full_collection_is_asked_for_once_the_heap_has_grown_past_the_bound_and_not_again_before_it_ends()
    {
        GC.Collect();
        var full = Math.Max(GC.GetGCMemoryInfo(GCKind.Background).Index, GC.GetGCMemoryInfo(GCKind.FullBlocking).Index);
        // Kept alive past the bound: the heap grew by more than it since the collection above, whatever else runs.
        var kept = new List<byte[]>();
        for (var i = 0; i < 80; i++) kept.Add(new byte[1 << 20]);

        Assert.True(HeapBound.Keep());
        Assert.False(HeapBound.Keep());
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Math.Max(GC.GetGCMemoryInfo(GCKind.Background).Index, GC.GetGCMemoryInfo(GCKind.FullBlocking).Index) == full)
        {
            Assert.True(DateTime.UtcNow < deadline, "the full collection asked for did not run");
            Thread.Sleep(10);
        }

        // What the collection kept is the new base: the kept arrays alone are no growth.
        Assert.False(HeapBound.Keep());
        GC.KeepAlive(kept);
    }
}
