using Akka.Actor;
using Akka.Pattern;
using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Core.Archive;
using DataSync.Core.Sync;
using DataSync.Wal.Changes;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The top of the sync pipeline: spawns the archive watcher, the bootstrapper and the stream coordinator
/// (which keeps one table applier per synced table), and passes table-list changes on. Whatever touches
/// the archive or the databases runs under a backoff supervisor with jitter, so a failure restarts only
/// that part, after a growing pause.
/// </summary>
public sealed class SyncSupervisor : ReceiveActor
{
    public const string Name = "sync";

    public SyncSupervisor(SyncOptions options, NpgsqlDataSource local, DaemonCounters counters)
    {
        var fetcher = new ArchiveFetcher(options.Archive, new WalSpool(options.SpoolDirectory), options.SegmentSize);
        var tableBootstrapper = new TableBootstrapper(options, local, fetcher);
        // Spill files left by a process that died mid-transaction are removed once, at start.
        var spill = new SpillStore(options.SpillDirectory);
        spill.SweepOrphans();
        var stream = new StreamDecoding(options, local, fetcher.Spool, spill);

        var bootstrapper = Context.ActorOf(Pipeline.Bootstrapper.Props(tableBootstrapper, local), Pipeline.Bootstrapper.Name);
        var coordinator = Context.ActorOf(WithBackoff(
            StreamCoordinator.Props(stream, local, options.Settings, options.SegmentSize, bootstrapper, counters), StreamCoordinator.Name), StreamCoordinator.Name + "-supervisor");
        Context.ActorOf(WithBackoff(
            ArchiveWatcher.Props(fetcher, tableBootstrapper, local, coordinator, counters, TimeSpan.FromSeconds(options.Settings.DataSyncFreqSeconds)), ArchiveWatcher.Name),
            ArchiveWatcher.Name + "-supervisor");

        Receive<TableListChanged>(changed => coordinator.Forward(changed));
    }

    public static Props Props(SyncOptions options, NpgsqlDataSource local, DaemonCounters counters) =>
        Akka.Actor.Props.Create(() => new SyncSupervisor(options, local, counters));

    private static Props WithBackoff(Props child, string name) =>
        BackoffSupervisor.Props(Backoff.OnFailure(child, name, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2), 0.2, -1));
}
