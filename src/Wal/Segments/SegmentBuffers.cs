namespace DataSync.Wal.Segments;

/// <summary>
/// A pool of whole-segment buffers (16 MiB by default) that holds a few of them between uses; the
/// readers and framers rent theirs from <see cref="Shared"/>.
/// </summary>
/// <remarks>
/// <para>Not <see cref="System.Buffers.ArrayPool{T}.Shared"/>: that pool keeps an array per thread and up to
/// 32 per core for every size, so 16 MiB buffers rented on one thread-pool thread and returned on another
/// (as async code does) pile up, one per thread that ever returned one, for as long as the process is
/// not short of memory. Measured on the daemon: four to six of them (64–96 MiB) held at once, where
/// reading needs one. Here a rent takes any idle buffer of the size asked for, whichever thread gave it
/// back, so the buffers alive are at most as many as were ever in use at once (those given back beyond
/// the pool's capacity are left to the collector).</para>
/// <para>Reusing buffers matters: a fresh 16 MiB array costs a page fault on every first touch.</para>
/// </remarks>
public sealed class SegmentBuffers
{
    private readonly Lock _gate = new();
    private readonly byte[]?[] _idle;

    /// <param name="capacity">Idle buffers kept for the next rent; more given back are left to the collector.</param>
    public SegmentBuffers(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _idle = new byte[capacity][];
    }

    /// <summary>
    /// The process's pool. Four: the daemon reads one segment at a time (two buffers at most when a run
    /// starts as the last one ends); a pool of WAL decoders uses more at once and allocates the rest.
    /// </summary>
    public static SegmentBuffers Shared { get; } = new(4);

    public int Capacity => _idle.Length;

    /// <summary>Idle buffers held now (for tests and diagnostics).</summary>
    public int IdleCount
    {
        get
        {
            lock (_gate) return _idle.Count(b => b is not null);
        }
    }

    /// <summary>Lets go of the idle buffers (the process has gone quiet; the next rents allocate again). Returns how many.</summary>
    public int Trim()
    {
        lock (_gate)
        {
            var dropped = 0;
            for (var i = 0; i < _idle.Length; i++)
            {
                if (_idle[i] is null) continue;
                _idle[i] = null;
                dropped++;
            }

            return dropped;
        }
    }

    /// <summary>A buffer of exactly <paramref name="size"/> bytes, not cleared: an idle one when there is one, else a new one.</summary>
    public byte[] Rent(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        lock (_gate)
        {
            for (var i = 0; i < _idle.Length; i++)
            {
                if (_idle[i] is not { } buffer || buffer.Length != size) continue;
                _idle[i] = null;
                return buffer;
            }
        }

        return GC.AllocateUninitializedArray<byte>(size);
    }

    /// <summary>Gives a buffer back (one rented here, or any other array no one uses any more); empty arrays are ignored.</summary>
    public void Return(byte[] buffer)
    {
        if (buffer.Length == 0) return;
        lock (_gate)
        {
            var free = -1;
            for (var i = 0; i < _idle.Length; i++)
            {
                if (ReferenceEquals(_idle[i], buffer)) throw new InvalidOperationException("a segment buffer was given back twice");
                if (free < 0 && _idle[i] is null) free = i;
            }

            // Full: the new one replaces an idle buffer of another size (a cluster with another segment size was read), else it is dropped.
            if (free < 0) free = Array.FindIndex(_idle, b => b!.Length != buffer.Length);
            if (free >= 0) _idle[free] = buffer;
        }
    }
}
