using System.Collections.Concurrent;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The bootstrap attempts the daemon has under way, so that its stop ends them: each attempt runs with <see cref="Stopping"/>,
/// and disposing cancels it and waits until every attempt has stopped its temporary restore. Without it a stop during a
/// copy left the restore's server running (with its copy of production) until the next start removed it, or, for a large
/// table, the process exit cut the copy off mid-way. The daemon's first attempt, started before the actor system, is
/// <see cref="EarlyBootstrap"/>'s to stop.
/// </summary>
public sealed class RunningBootstraps : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, bool> _running = new();

    /// <summary>Cancelled when the daemon stops.</summary>
    public CancellationToken Stopping => _stopping.Token;

    /// <summary>Keeps <paramref name="attempt"/> until it ends, for the stop to wait for.</summary>
    public Task<T> Track<T>(Task<T> attempt)
    {
        _running[attempt] = true;
        attempt.ContinueWith(ended => _running.TryRemove(ended, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return attempt;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var attempt in _running.Keys)
        {
            try
            {
                await attempt.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Its answer was for the bootstrapper, which has stopped: only its end matters here.
            }
        }

        _stopping.Dispose();
    }
}
