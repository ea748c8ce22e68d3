using DataSync.Core.Sync;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The daemon's first bootstrap, started as soon as the daemon lock is held and the restores an earlier run left are
/// removed, while the host, the actor system and remoting are still starting: copying the base backup and starting its
/// restore need none of them, and a first bootstrap used to wait for all of them (about a second of CPU on a small
/// machine). It is the attempt the stream's first pass would ask for: the tables that need a copy, read from the
/// database, copied by the same <see cref="TableBootstrapper"/> (so the spool's hold, the checkpoints and the stream
/// point it installs are those of any attempt). The bootstrapper's first attempt takes it (<see cref="Take"/>) instead
/// of starting its own, so its outcome is answered, logged and retried as any attempt's.
/// </summary>
public sealed class EarlyBootstrap : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task<EarlyBootstrapAttempt?> _started;
    private Task<EarlyBootstrapAttempt?>? _pending;

    private EarlyBootstrap(Func<CancellationToken, Task<EarlyBootstrapAttempt?>> attempt)
    {
        _started = Task.Run(() => attempt(_stopping.Token));
        _pending = _started;
    }

    /// <summary>
    /// Reads which tables need a copy and, when some do, tells <paramref name="starting"/> their names and bootstraps them
    /// on the thread pool. Null from the task when none needed one.
    /// </summary>
    public static EarlyBootstrap Start(TableBootstrapper bootstrapper, NpgsqlDataSource local, Action<IReadOnlyList<string>> starting) =>
        new(async cancellationToken =>
        {
            IReadOnlyList<TableSyncState> all;
            // The connection is given back before the copy, which opens its own.
            await using (var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
                all = await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false);
            var needing = all.Where(t => t.NeedsBootstrap).ToList();
            if (needing.Count == 0) return null;
            starting(needing.Select(t => t.Table.ToString()).ToList());
            return new EarlyBootstrapAttempt(needing, await bootstrapper.BootstrapAsync(all, needing, cancellationToken).ConfigureAwait(false));
        });

    /// <summary>Whether the daemon is stopping and has stopped the attempt (<see cref="DisposeAsync"/>).</summary>
    public bool IsStopping => _stopping.IsCancellationRequested;

    /// <summary>The started attempt for the first caller, null for every later one (a restarted bootstrapper attempts anew).</summary>
    public Task<EarlyBootstrapAttempt?>? Take() => Interlocked.Exchange(ref _pending, null);

    /// <summary>
    /// Stops the attempt if it still runs (the daemon is stopping: its restore is stopped and nothing is committed for the
    /// tables not yet copied) and waits until it is over, whatever its outcome: nothing is left writing into the spool.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _started.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Answered by the bootstrapper that took it; one nobody took ends with the daemon that stopped or failed to start.
        }
    }
}

/// <summary>What the early bootstrap attempted: the tables that needed a copy then, and how the attempt ended.</summary>
public sealed record EarlyBootstrapAttempt(IReadOnlyList<TableSyncState> Needing, BootstrapOutcome Outcome);
