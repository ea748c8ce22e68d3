using Akka.Actor;
using Akka.Event;
using Akka.Routing;
using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Core.Archive;
using DataSync.Core.Archive.Sftp;
using DataSync.Core.Sync;
using DataSync.Wal.Changes;
using Npgsql;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The top of the sync pipeline: spawns the archive watcher, the bootstrapper and the stream coordinator
/// (which keeps one table applier per synced table), and passes table-list changes on. Whatever touches
/// the archive or the databases runs under a backoff supervisor with jitter (<see cref="SupervisionBackoff"/>),
/// so a failure restarts only that part, after a growing pause. The bootstrapper needs none: it answers its
/// failures instead of throwing and paces its own retries. What the children are is <see cref="SyncChildren"/>,
/// so a spec can watch this supervision with stand-ins.
/// </summary>
public sealed class SyncSupervisor : ReceiveActor
{
    public const string Name = "sync";

    public SyncSupervisor(SyncChildren children, SupervisionBackoff backoff)
    {
        var bootstrapper = Context.ActorOf(children.Bootstrapper(), Pipeline.Bootstrapper.Name);
        var coordinator = Context.ActorOf(backoff.OnFailure(children.Coordinator(Context, bootstrapper), StreamCoordinator.Name), StreamCoordinator.Name + "-supervisor");
        Context.ActorOf(backoff.OnFailure(children.Watcher(coordinator), ArchiveWatcher.Name), ArchiveWatcher.Name + "-supervisor");

        Receive<TableListChanged>(changed => coordinator.Forward(changed));
    }

    /// <param name="parts">The pipeline's parts over one spool, made once (the daemon makes them before its actor system, to fetch early).</param>
    /// <param name="decoders">WAL decoders in the pool (<see cref="WalDecoderCount"/>); 0 frames them on the thread pool, one ahead of the stream.</param>
    /// <param name="arrivals">Segments as they land in the spool, told to the coordinator through the watcher.</param>
    /// <param name="early">The daemon's first fetch, started before the actor system; the watcher's first scan finishes it.</param>
    /// <param name="earlyBootstrap">The daemon's first bootstrap, started before the actor system; the bootstrapper's first attempt takes it.</param>
    /// <param name="bootstraps">The bootstrap attempts under way, for the daemon's stop to cancel and wait for.</param>
    public static Props Props(SyncParts parts, SyncOptions options, NpgsqlDataSource local, DaemonCounters counters, int decoders, SegmentArrivals arrivals, EarlyFetch? early,
        EarlyBootstrap? earlyBootstrap = null, RunningBootstraps? bootstraps = null) =>
        Props(DaemonChildren(parts, options, local, counters, decoders, arrivals, early, earlyBootstrap, bootstraps), SupervisionBackoff.Default);

    public static Props Props(SyncChildren children, SupervisionBackoff backoff) =>
        Akka.Actor.Props.Create(() => new SyncSupervisor(children, backoff));

    /// <summary>The daemon's pipeline over one spool: the parts are shared by the children across their restarts.</summary>
    public static SyncChildren DaemonChildren(SyncParts parts, SyncOptions options, NpgsqlDataSource local, DaemonCounters counters, int decoders, SegmentArrivals arrivals,
        EarlyFetch? early, EarlyBootstrap? earlyBootstrap = null, RunningBootstraps? bootstraps = null)
    {
        // Shared by the parts and kept above their restarts: a cause that repeats across restarts is one row.
        var failures = new FailureLog(local, new LocalDatabaseOutage(options.Settings));
        var spool = parts.Fetcher.Spool;
        return new SyncChildren(
            () => Pipeline.Bootstrapper.Props(parts.Bootstrapper, local, failures, earlyBootstrap, bootstraps),
            (context, bootstrapper) =>
            {
                IActorRef? pool = null;
                if (decoders > 0)
                    pool = context.ActorOf(WalDecoder.Props(spool.Framer(), spool).WithRouter(new SmallestMailboxPool(decoders)), WalDecoder.PoolName);

                context.GetLogger().Info(decoders > 0
                    ? $"{decoders} WAL decoder(s) frame segments in parallel ahead of reassembly"
                    : "segments are framed on the thread pool, one ahead of the stream (datasync.wal-decoders = 0 or auto below 4 cores)");
                return StreamCoordinator.Props(parts, local, options.Settings, options.SegmentSize, bootstrapper, counters, failures, pool, ahead: pool is null ? 1 : decoders + 1);
            },
            coordinator => ArchiveWatcher.Props(parts, coordinator, counters, failures, arrivals, early, TimeSpan.FromSeconds(options.Settings.DataSyncFreqSeconds),
                SftpLocation.IsSftpUrl(options.Settings.ArchiveDir) ? null : options.Settings.ArchiveDir));
    }

    /// <summary>How many WAL decoders to run: a number, or "auto" (one per core beyond the first, at most 4, none below 4 cores).</summary>
    public static int WalDecoderCount(string? setting, int cores)
    {
        setting ??= "auto";
        if (setting.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return cores >= 4 ? Math.Min(cores - 1, 4) : 0;
        return int.TryParse(setting, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var count) && count is >= 0 and <= 64
            ? count
            : throw new ArgumentException($"datasync.wal-decoders must be \"auto\" or a number from 0 to 64, not '{setting}'");
    }
}
