using Akka.Event;
using DataSync.Core.Sync;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// One bootstrap attempt as the daemon runs it: reads which of the asked tables still need a copy, lets
/// <see cref="TableBootstrapper"/> copy them, logs each cause once and turns the outcome into the answer. A wait
/// or a failure is answered, never thrown, with the time before which no attempt is to be made. The daemon's first
/// attempt may have started before the actor system (<see cref="EarlyBootstrap"/>): the first pass takes its outcome.
/// </summary>
internal sealed class BootstrapPass(TableBootstrapper bootstrapper, NpgsqlDataSource local, FailureLog failures, ILoggingAdapter log, EarlyBootstrap? early = null)
{
    /// <summary>How long the next attempt waits after the attempt itself failed (the local database was unreachable).</summary>
    public static readonly TimeSpan RetryAfterError = TimeSpan.FromSeconds(30);

    // Tables whose copy the log has announced and that are not copied yet: a retry after a wait is not announced again,
    // nor is what the early attempt announced itself.
    private readonly HashSet<string> _announced = [];

    /// <param name="cancellationToken">The daemon's stop: the copy stops, its temporary restore with it, and nothing is reported.</param>
    public async Task<BootstrapFinished> RunAsync(IReadOnlyList<string> tables, CancellationToken cancellationToken)
    {
        try
        {
            if (early?.Take() is { } started && await started.ConfigureAwait(false) is { } attempt)
            {
                var earlier = attempt.Needing.Select(t => t.Table.ToString()).ToList();
                if (!attempt.Outcome.IsCopied) _announced.UnionWith(earlier);
                // A table asked for since (added or resynced while the daemon started) is copied by the attempt below.
                if (!attempt.Outcome.IsCopied || tables.All(earlier.Contains)) return Answer(earlier, attempt.Outcome);
            }

            await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var all = await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false);
            var needing = all.Where(t => t.NeedsBootstrap && tables.Contains(t.Table.ToString())).ToList();
            var names = needing.Select(t => t.Table.ToString()).ToList();
            if (needing.Count == 0) return new BootstrapFinished(names, false, null);

            var announcing = names.Where(_announced.Add).ToList();
            if (announcing.Count > 0) log.Info("bootstrapping {Tables} from the newest base backup", string.Join(", ", announcing));
            var outcome = await bootstrapper.BootstrapAsync(all, needing, cancellationToken).ConfigureAwait(false);
            if (outcome.IsCopied) _announced.ExceptWith(names);
            return Answer(names, outcome);
        }
        catch (Exception) when (early is { IsStopping: true } || cancellationToken.IsCancellationRequested)
        {
            // The daemon is stopping and stopped this attempt (or the early one it took): no failure to report.
            return new BootstrapFinished(tables, false, null);
        }
        catch (Exception e)
        {
            if (LocalDatabaseOutage.IsOutage(e)) failures.OutageMet("bootstrap", e);
            var message = TableBootstrapper.Describe(e);
            log.Error(e, "bootstrap of {Tables} failed: {Message}", string.Join(", ", tables), message);
            return new BootstrapFinished(tables, false, message, true, true, DateTimeOffset.UtcNow + RetryAfterError);
        }
    }

    /// <summary>The answer to an attempt on <paramref name="names"/>, its cause logged once.</summary>
    private BootstrapFinished Answer(IReadOnlyList<string> names, BootstrapOutcome outcome)
    {
        // One line per cause: attempts that meet it again are counted in the tables' status instead.
        if (outcome is { NewCause: true, Result: BootstrapResult.Waiting })
            log.Warning("bootstrap of {Tables} waits (next attempt not before {RetryAt:u}): {Cause}", string.Join(", ", names), outcome.RetryAt, outcome.Message);
        else if (outcome is { NewCause: true, Result: BootstrapResult.Failed })
            log.Error("bootstrap of {Tables} failed (next attempt not before {RetryAt:u}): {Cause}", string.Join(", ", names), outcome.RetryAt, outcome.Message);
        foreach (var refused in outcome.Refused) log.Error("bootstrap refused {Table}: {Cause}", refused.Table, refused.Cause);
        return new BootstrapFinished(names, outcome.IsCopied, outcome.Message, outcome.Result == BootstrapResult.Failed, outcome.NewCause, outcome.RetryAt)
        {
            Refused = outcome.Refused.Select(r => r.Table.ToString()).ToList(),
        };
    }
}
