using Akka.Actor;
using Akka.Event;
using DataSync.Actors.Daemon;
using DataSync.Messages.Control;

namespace DataSync.Actors.Control;

/// <summary>
/// The daemon's face to the CLI, reachable over loopback remoting at <c>/user/control</c>. It answers the
/// handshake (proving it holds the token), checks each request's proof against the nonces it gave out
/// (<see cref="ControlNonces"/>), hands the work to
/// <see cref="ControlCommandHandler"/> and pipes the answer back; it never blocks, and a failing request
/// becomes an error reply, never a crash of the endpoint.
/// </summary>
public sealed class ControlEndpoint : ReceiveActor
{
    public const string Name = "control";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly ControlNonces _nonces;

    public ControlEndpoint(ControlCommandHandler handler, string token, Action requestStop, IActorRef? tableListListener, TimeProvider clock, IActorRef? verifier = null)
    {
        _nonces = new ControlNonces(clock);
        Receive<ControlHello>(hello =>
        {
            if (hello.ClientNonce.Length is 0 or > 128)
            {
                _log.Warning("refused a control handshake with a malformed nonce");
                return;
            }

            Sender.Tell(new ControlHelloReply(_nonces.Issue(), ControlToken.DaemonProof(token, hello.ClientNonce)));
        });
        Receive<ControlRequest>(request =>
        {
            var sender = Sender;
            if (!_nonces.Authorises(token, request.Token))
            {
                _log.Warning("refused a {Request}: its control token proof is wrong or expired", request.GetType().Name);
                sender.Tell(ControlReply.Failed(1, "the daemon refused the request: its control token proof is wrong or expired (only the daemon's OS user can control it)"));
                return;
            }

            if (request is StopRequest)
            {
                // Answer, then stop, in this order. The reply is handed to remoting before the stop is asked for, and
                // remoting's shutdown flushes what it holds for an association before closing it
                // (akka.remote.flush-wait-on-shutdown), so the CLI gets the answer; it then waits for the process to go.
                // The stop runs on the thread pool: the host's stopping callbacks must not run on this actor's thread,
                // where one that waited for the actor system to end would wait for this very actor.
                sender.Tell(ControlReply.Ok($"stopping datasync (pid {Environment.ProcessId})"));
                _ = Task.Run(requestStop);
                return;
            }

            if (request is VerifyRequest or VerifyProgressRequest)
            {
                // A verify runs for minutes: the verifier answers at once with its job, then with its progress.
                if (verifier is null) sender.Tell(ControlReply.Failed(1, "this daemon does not run verifies"));
                else verifier.Tell(request, sender);
                return;
            }

            Task<object> work = request switch
            {
                StatusRequest => Boxed(handler.StatusAsync()),
                BootstrapProgressRequest progress => Boxed(handler.BootstrapProgressAsync(progress.Tables)),
                AddTablesRequest add => Changed(handler.AddTablesAsync(add.Tables, add.Creator), tableListListener),
                RemoveTablesRequest remove => Changed(handler.RemoveTablesAsync(remove.Tables), tableListListener),
                ClearRequest => Changed(handler.ClearAsync(), tableListListener),
                ResyncRequest resync => Changed(handler.RequestResyncAsync(resync.Tables, daemonRunning: true), tableListListener),
                _ => Task.FromResult<object>(ControlReply.Failed(2, $"unknown request {request.GetType().Name}")),
            };
            work.PipeTo(sender, failure: e => ControlReply.Failed(1, (e is AggregateException { InnerException: { } inner } ? inner : e).Message));
        });
    }

    private static async Task<object> Boxed<T>(Task<T> work) where T : notnull => await work.ConfigureAwait(false);

    public static Props Props(ControlCommandHandler handler, string token, Action requestStop, IActorRef? tableListListener, TimeProvider? clock = null,
        IActorRef? verifier = null) =>
        Akka.Actor.Props.Create(() => new ControlEndpoint(handler, token, requestStop, tableListListener, clock ?? TimeProvider.System, verifier));

    private static async Task<object> Changed(Task<ControlReply> work, IActorRef? listener)
    {
        var reply = await work.ConfigureAwait(false);
        listener?.Tell(TableListChanged.Instance);
        return reply;
    }
}

/// <summary>
/// Tells the supervisor that the sync list or a table's state changed, so it re-reads them. Local only: it has no
/// manifest, so it can never cross the network, and serialization checks (serialize-messages in specs) skip it.
/// </summary>
public sealed class TableListChanged : INoSerializationVerificationNeeded
{
    public static readonly TableListChanged Instance = new();

    private TableListChanged()
    {
    }
}
