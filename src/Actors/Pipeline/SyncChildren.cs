using Akka.Actor;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// What <see cref="SyncSupervisor"/> starts under it: the bootstrapper, the stream coordinator (given the
/// supervisor's context, where it may start the WAL decoder pool, and the bootstrapper) and the archive
/// watcher (given the coordinator it tells). The daemon's are <see cref="SyncSupervisor.DaemonChildren"/>;
/// a spec passes stand-ins to watch the supervision itself.
/// </summary>
public sealed record SyncChildren(
    Func<Props> Bootstrapper,
    Func<IUntypedActorContext, IActorRef, Props> Coordinator,
    Func<IActorRef, Props> Watcher);
