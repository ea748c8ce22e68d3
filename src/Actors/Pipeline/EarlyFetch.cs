using DataSync.Core.Archive;
using DataSync.Core.Sync;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The daemon's first pass over the archive, started as soon as the daemon lock is held and the segment size known,
/// while the host and the actor system are still starting: after a restart the backlog starts moving into the spool
/// at once instead of after the rest of start-up. The archive watcher's first scan takes it (<see cref="Take"/>)
/// instead of starting its own, so a failure is reported and retried as any scan's.
/// </summary>
public sealed class EarlyFetch : IAsyncDisposable
{
    private Task<FetchResult>? _pending;
    private readonly Task<FetchResult> _started;

    private EarlyFetch(Task<FetchResult> started)
    {
        _started = started;
        _pending = started;
    }

    /// <summary>Starts <see cref="SyncParts.FetchAsync"/> on the thread pool, each segment's name told to <paramref name="spooled"/> as it lands.</summary>
    public static EarlyFetch Start(SyncParts parts, Action<string> spooled) =>
        new(Task.Run(() => parts.FetchAsync(CancellationToken.None, spooled)));

    /// <summary>The started fetch for the first caller, null for every later one (a restarted watcher scans anew).</summary>
    public Task<FetchResult>? Take() => Interlocked.Exchange(ref _pending, null);

    /// <summary>Waits until the fetch is over, whatever its outcome (the watcher reports that): nothing is left writing into the spool.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _started.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Reported by the scan that took it; a fetch nobody took ends with the daemon that failed to start.
        }
    }
}
