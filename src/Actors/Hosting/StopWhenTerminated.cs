using Akka.Actor;
using Akka.Event;

namespace DataSync.Actors.Hosting;

/// <summary>
/// Ends the daemon when the sync pipeline's top actor is gone (it failed to start, or stopped for good):
/// a daemon that answers status but syncs nothing would hide the failure.
/// </summary>
public sealed class StopWhenTerminated : ReceiveActor
{
    public StopWhenTerminated(IActorRef watched, Action stop)
    {
        Context.Watch(watched);
        Receive<Terminated>(t =>
        {
            Context.GetLogger().Error("{Actor} stopped; the daemon stops with it (see the error above)", t.ActorRef.Path);
            stop();
        });
    }

    public static Props Props(IActorRef watched, Action stop) => Akka.Actor.Props.Create(() => new StopWhenTerminated(watched, stop));
}
