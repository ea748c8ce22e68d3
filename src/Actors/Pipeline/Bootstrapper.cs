using Akka.Actor;
using Akka.Event;
using DataSync.Core.Sync;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Copies tables that need it (new, or resync asked) from a temporary restore of the newest base backup,
/// beside the running stream, one bootstrap at a time; the work is <see cref="TableBootstrapper"/>'s.
/// A wait or failure is answered, not thrown, with when to ask again; each cause is logged once.
/// </summary>
public sealed class Bootstrapper : ReceiveActor
{
    public const string Name = "bootstrapper";

    private readonly ILoggingAdapter _log = Context.GetLogger();

    public Bootstrapper(TableBootstrapper bootstrapper, NpgsqlDataSource local, FailureLog failures)
    {
        ReceiveAsync<BootstrapTables>(async request =>
        {
            var sender = Sender;
            try
            {
                await using var connection = await local.OpenConnectionAsync().ConfigureAwait(false);
                var all = await SyncState.ReadTablesAsync(connection, CancellationToken.None).ConfigureAwait(false);
                var needing = all.Where(t => t.NeedsBootstrap && request.Tables.Contains(t.Table.ToString())).ToList();
                var names = needing.Select(t => t.Table.ToString()).ToList();
                if (needing.Count == 0)
                {
                    sender.Tell(new BootstrapFinished(names, false, null));
                    return;
                }

                var outcome = await bootstrapper.BootstrapAsync(all, needing, CancellationToken.None).ConfigureAwait(false);
                // One line per cause: attempts that meet it again are counted in the tables' status instead.
                if (outcome is { NewCause: true, Result: BootstrapResult.Waiting })
                    _log.Warning("bootstrap of {Tables} waits (next attempt not before {RetryAt:u}): {Cause}", string.Join(", ", names), outcome.RetryAt, outcome.Message);
                else if (outcome is { NewCause: true, Result: BootstrapResult.Failed })
                    _log.Error("bootstrap of {Tables} failed (next attempt not before {RetryAt:u}): {Cause}", string.Join(", ", names), outcome.RetryAt, outcome.Message);
                foreach (var refused in outcome.Refused) _log.Error("bootstrap refused {Table}: {Cause}", refused.Table, refused.Cause);
                sender.Tell(new BootstrapFinished(names, outcome.IsCopied, outcome.Message, outcome.Result == BootstrapResult.Failed, outcome.NewCause, outcome.RetryAt)
                {
                    Refused = outcome.Refused.Select(r => r.Table.ToString()).ToList(),
                });
            }
            catch (Exception e)
            {
                if (LocalDatabaseOutage.IsOutage(e)) failures.Outage.Met("bootstrap", e);
                var message = TableBootstrapper.Describe(e);
                _log.Error(e, "bootstrap of {Tables} failed: {Message}", string.Join(", ", request.Tables), message);
                sender.Tell(new BootstrapFinished(request.Tables, false, message, true, true, DateTimeOffset.UtcNow + RetryAfterError));
            }
        });
    }

    /// <summary>How long the coordinator waits after the bootstrapper itself failed (the local database was unreachable).</summary>
    private static readonly TimeSpan RetryAfterError = TimeSpan.FromSeconds(30);

    public static Props Props(TableBootstrapper bootstrapper, NpgsqlDataSource local, FailureLog failures) =>
        Akka.Actor.Props.Create(() => new Bootstrapper(bootstrapper, local, failures));
}
