using Akka.Actor;
using Akka.Event;
using DataSync.Actors.Daemon;
using DataSync.Messages.Control;

namespace DataSync.Actors.Control;

/// <summary>
/// The daemon's face to the CLI, reachable over loopback remoting at <c>/user/control</c>. It checks
/// the token, hands the work to <see cref="ControlCommandHandler"/> and pipes the answer back; it
/// never blocks, and a failing request becomes an error reply, never a crash of the endpoint.
/// </summary>
public sealed class ControlEndpoint : ReceiveActor
{
    public const string Name = "control";

    private readonly ILoggingAdapter _log = Context.GetLogger();

    public ControlEndpoint(ControlCommandHandler handler, string token, Action requestStop, IActorRef? tableListListener)
    {
        Receive<ControlRequest>(request =>
        {
            var sender = Sender;
            if (!ControlToken.Matches(token, request.Token))
            {
                _log.Warning("refused a {Request} with a wrong control token", request.GetType().Name);
                sender.Tell(ControlReply.Failed(1, "the daemon refused the request: wrong control token (only the daemon's OS user can control it)"));
                return;
            }

            Task<object> work = request switch
            {
                StatusRequest => handler.StatusAsync().ContinueWith(t => (object)t.Result, TaskContinuationOptions.OnlyOnRanToCompletion),
                StopRequest => Stop(requestStop),
                AddTablesRequest add => Changed(handler.AddTablesAsync(add.Tables, add.Creator), tableListListener),
                RemoveTablesRequest remove => Changed(handler.RemoveTablesAsync(remove.Tables), tableListListener),
                ClearRequest => Changed(handler.ClearAsync(), tableListListener),
                ResyncRequest resync => Changed(handler.RequestResyncAsync(resync.Tables, daemonRunning: true), tableListListener),
                _ => Task.FromResult<object>(ControlReply.Failed(2, $"unknown request {request.GetType().Name}")),
            };
            work.PipeTo(sender, failure: e => ControlReply.Failed(1, (e is AggregateException { InnerException: { } inner } ? inner : e).Message));
        });
    }

    public static Props Props(ControlCommandHandler handler, string token, Action requestStop, IActorRef? tableListListener) =>
        Akka.Actor.Props.Create(() => new ControlEndpoint(handler, token, requestStop, tableListListener));

    private static Task<object> Stop(Action requestStop)
    {
        // Answer first, then stop: the reply must leave before remoting shuts down.
        _ = Task.Delay(TimeSpan.FromMilliseconds(200)).ContinueWith(_ => requestStop(), TaskScheduler.Default);
        return Task.FromResult<object>(ControlReply.Ok($"stopping datasync (pid {Environment.ProcessId})"));
    }

    private static async Task<object> Changed(Task<ControlReply> work, IActorRef? listener)
    {
        var reply = await work.ConfigureAwait(false);
        listener?.Tell(TableListChanged.Instance);
        return reply;
    }
}

/// <summary>Tells the supervisor that the sync list or a table's state changed, so it re-reads them.</summary>
public sealed class TableListChanged
{
    public static readonly TableListChanged Instance = new();

    private TableListChanged()
    {
    }
}
