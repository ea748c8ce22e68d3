using Akka.Actor;
using Akka.Event;
using DataSync.Core.Sync;
using DataSync.Messages.Pipeline;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Copies tables that need it (new, or resync asked) from a temporary restore of the newest base backup,
/// beside the running stream, one bootstrap at a time; the work is <see cref="TableBootstrapper"/>'s.
/// A failure is answered, not thrown: the coordinator asks again on its next pass.
/// </summary>
public sealed class Bootstrapper : ReceiveActor
{
    public const string Name = "bootstrapper";

    private readonly ILoggingAdapter _log = Context.GetLogger();

    public Bootstrapper(TableBootstrapper bootstrapper, NpgsqlDataSource local)
    {
        ReceiveAsync<BootstrapTables>(async request =>
        {
            var sender = Sender;
            try
            {
                await using var connection = await local.OpenConnectionAsync().ConfigureAwait(false);
                var all = await SyncState.ReadTablesAsync(connection, CancellationToken.None).ConfigureAwait(false);
                var needing = all.Where(t => t.NeedsBootstrap && request.Tables.Contains(t.Table.ToString())).ToList();
                var copied = needing.Count > 0 && await bootstrapper.BootstrapAsync(all, needing, CancellationToken.None).ConfigureAwait(false);
                sender.Tell(new BootstrapFinished(needing.Select(t => t.Table.ToString()).ToList(), copied, null));
            }
            catch (Exception e)
            {
                _log.Error(e, "bootstrap of {Tables} failed: {Message}", string.Join(", ", request.Tables), e.GetBaseException().Message);
                sender.Tell(new BootstrapFinished(request.Tables, false, e.GetBaseException().Message));
            }
        });
    }

    public static Props Props(TableBootstrapper bootstrapper, NpgsqlDataSource local) =>
        Akka.Actor.Props.Create(() => new Bootstrapper(bootstrapper, local));
}
