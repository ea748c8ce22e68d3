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
/// of starting its own, so its outcome is answered, logged and retried as any attempt's. It runs among the daemon's
/// <see cref="RunningBootstraps"/>, whose stop ends it as it ends every later attempt.
/// </summary>
public sealed class EarlyBootstrap
{
    private readonly RunningBootstraps _running;
    private Task<EarlyBootstrapAttempt?>? _pending;

    private EarlyBootstrap(RunningBootstraps running, Func<CancellationToken, Task<EarlyBootstrapAttempt?>> attempt)
    {
        _running = running;
        var started = running.Run(stopping => Task.Run(() => attempt(stopping), CancellationToken.None));
        // An attempt nobody took (the daemon failed to start) ends with the daemon; its failure is not left unobserved.
        started.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        _pending = started;
    }

    /// <summary>
    /// Reads which tables need a copy and, when some do, tells <paramref name="starting"/> their names and bootstraps them
    /// on the thread pool, among <paramref name="running"/>. Null from the task when none needed one.
    /// </summary>
    public static EarlyBootstrap Start(TableBootstrapper bootstrapper, NpgsqlDataSource local, RunningBootstraps running, Action<IReadOnlyList<string>> starting) =>
        new(running, async cancellationToken =>
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

    /// <summary>Whether the daemon is stopping and has stopped the attempt (<see cref="RunningBootstraps.IsStopping"/>).</summary>
    public bool IsStopping => _running.IsStopping;

    /// <summary>The started attempt for the first caller, null for every later one (a restarted bootstrapper attempts anew).</summary>
    public Task<EarlyBootstrapAttempt?>? Take() => Interlocked.Exchange(ref _pending, null);
}

/// <summary>What the early bootstrap attempted: the tables that needed a copy then, and how the attempt ended.</summary>
public sealed record EarlyBootstrapAttempt(IReadOnlyList<TableSyncState> Needing, BootstrapOutcome Outcome);
