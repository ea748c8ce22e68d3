using Akka.Actor;
using Akka.Event;
using Akka.Pattern;
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
/// the archive or the databases runs under a backoff supervisor with jitter, so a failure restarts only
/// that part, after a growing pause.
/// </summary>
public sealed class SyncSupervisor : ReceiveActor
{
    public const string Name = "sync";

    public SyncSupervisor(SyncOptions options, NpgsqlDataSource local, DaemonCounters counters, int decoders)
    {
        var parts = new SyncParts(options, local);
        // Shared by the parts and kept here, above their restarts: a cause that repeats across restarts is one row.
        var failures = new FailureLog(local, new LocalDatabaseOutage(options.Settings));
        var spool = parts.Fetcher.Spool;

        var bootstrapper = Context.ActorOf(Pipeline.Bootstrapper.Props(parts.Bootstrapper, local, failures), Pipeline.Bootstrapper.Name);
        IActorRef? pool = null;
        if (decoders > 0)
            pool = Context.ActorOf(WalDecoder.Props(WalDecoder.FramerOver(spool), spool).WithRouter(new SmallestMailboxPool(decoders)), WalDecoder.PoolName);

        Context.GetLogger().Info(decoders > 0
            ? $"{decoders} WAL decoder(s) frame segments in parallel ahead of reassembly"
            : "segments are framed on the thread pool, two ahead of the stream (datasync.wal-decoders = 0 or auto below 4 cores)");

        var coordinator = Context.ActorOf(WithBackoff(
            StreamCoordinator.Props(parts, local, options.Settings, options.SegmentSize, bootstrapper, counters, failures, pool, ahead: pool is null ? 2 : decoders + 1), StreamCoordinator.Name), StreamCoordinator.Name + "-supervisor");
        Context.ActorOf(WithBackoff(
            ArchiveWatcher.Props(parts, coordinator, counters, failures, TimeSpan.FromSeconds(options.Settings.DataSyncFreqSeconds),
                SftpLocation.IsSftpUrl(options.Settings.ArchiveDir) ? null : options.Settings.ArchiveDir), ArchiveWatcher.Name),
            ArchiveWatcher.Name + "-supervisor");

        Receive<TableListChanged>(changed => coordinator.Forward(changed));
    }

    /// <param name="decoders">WAL decoders in the pool (<see cref="WalDecoderCount"/>); 0 reads segments in order on the stream's thread.</param>
    public static Props Props(SyncOptions options, NpgsqlDataSource local, DaemonCounters counters, int decoders) =>
        Akka.Actor.Props.Create(() => new SyncSupervisor(options, local, counters, decoders));

    /// <summary>How many WAL decoders to run: a number, or "auto" (one per core beyond the first, at most 4, none below 4 cores).</summary>
    public static int WalDecoderCount(string? setting, int cores)
    {
        setting ??= "auto";
        if (setting.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase)) return cores >= 4 ? Math.Min(cores - 1, 4) : 0;
        return int.TryParse(setting, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var count) && count is >= 0 and <= 64
            ? count
            : throw new ArgumentException($"datasync.wal-decoders must be \"auto\" or a number from 0 to 64, not '{setting}'");
    }

    private static Props WithBackoff(Props child, string name) =>
        BackoffSupervisor.Props(Backoff.OnFailure(child, name, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2), 0.2, -1));
}
