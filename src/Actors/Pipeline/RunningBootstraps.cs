namespace DataSync.Actors.Pipeline;

/// <summary>
/// The bootstrap attempts the daemon has under way, so that its stop ends them: each attempt runs with the daemon's stop
/// token, and disposing cancels it and waits until every attempt has stopped its temporary restore. Without it a stop
/// during a copy left the restore's server running (with its copy of production) until the next start removed it, or,
/// for a large table, the process exit cut the copy off mid-way. The daemon's first attempt, started before the actor
/// system (<see cref="EarlyBootstrap"/>), runs here too.
/// </summary>
public sealed class RunningBootstraps : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _allEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private int _running;
    private bool _disposing;

    /// <summary>Whether the daemon is stopping: every attempt's token is cancelled.</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>
    /// Runs <paramref name="attempt"/> with the stop token. It is counted before it starts: a stop that comes while the
    /// attempt is still in its first synchronous steps waits for it too.
    /// </summary>
    public Task<T> Run<T>(Func<CancellationToken, Task<T>> attempt)
    {
        lock (_gate) _running++;
        Task<T> started;
        try
        {
            started = attempt(_stopping.Token);
        }
        catch (Exception e)
        {
            started = Task.FromException<T>(e);
        }

        started.ContinueWith(_ => Ended(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return started;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposing = true;
            if (_running == 0) _allEnded.TrySetResult();
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        // The attempts' answers were for the bootstrapper, which has stopped: only their ends matter here.
        await _allEnded.Task.ConfigureAwait(false);
    }

    private void Ended()
    {
        lock (_gate)
        {
            _running--;
            if (_running == 0 && _disposing) _allEnded.TrySetResult();
        }
    }
}
