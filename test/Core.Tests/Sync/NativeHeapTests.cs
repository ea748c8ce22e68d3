using System.Globalization;
using System.Runtime.InteropServices;
using DataSync.Core.Sync;

namespace DataSync.Core.Tests.Sync;

/// <summary>The quiet daemon's native trim gives the C allocator's free pages back, which plain frees leave resident.</summary>
public sealed class NativeHeapTests
{
    private const int Blocks = 16384;
    private const int BlockSize = 4000;

    [Fact]
    public void Freed_pages_between_live_allocations_go_back_to_the_system()
    {
        var kept = new List<IntPtr>();
        long before = 0, after = 0;
        // On a thread of its own, as the daemon's thread-pool threads allocate: glibc gives it an arena of its own, and a
        // block kept alive every 32 leaves the freed ones between them inside the arena, where free() never returns them.
        var thread = new Thread(() =>
        {
            var all = new IntPtr[Blocks];
            for (var i = 0; i < Blocks; i++)
            {
                all[i] = Marshal.AllocHGlobal(BlockSize);
                for (var offset = 0; offset < BlockSize; offset += 512) Marshal.WriteByte(all[i], offset, 1);
            }

            for (var i = 0; i < Blocks; i++)
            {
                if (i % 32 == 0) kept.Add(all[i]);
                else Marshal.FreeHGlobal(all[i]);
            }

            before = AnonymousKb();
            Assert.True(NativeHeap.Trim());
            after = AnonymousKb();
        });
        thread.Start();
        thread.Join();
        foreach (var block in kept) Marshal.FreeHGlobal(block);

        // About 60 MiB were freed between the kept blocks; at least 40 of them must have left the resident set.
        Assert.True(before - after >= 40 * 1024, $"anonymous resident memory {before} kB before the trim, {after} kB after");
    }

    private static long AnonymousKb()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
