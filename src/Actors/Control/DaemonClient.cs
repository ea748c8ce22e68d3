using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using DataSync.Actors.Daemon;
using DataSync.Actors.Hosting;
using DataSync.Actors.Serialization;
using DataSync.Messages.Control;

namespace DataSync.Actors.Control;

/// <summary>
/// The CLI's side of the control channel: a short-lived actor system on a loopback port of its own
/// that asks the daemon's control endpoint, with an explicit timeout. No token file, or nothing listening
/// on CONTROL_PORT, both mean "no daemon running", found without waiting. Before anything else the
/// daemon must prove it holds the token (<see cref="HandshakeAsync"/>); the token itself is never sent.
/// </summary>
public sealed class DaemonClient : IAsyncDisposable
{
    private static readonly TimeSpan PortProbeTimeout = TimeSpan.FromSeconds(2);

    private readonly ActorSystem _system;
    private readonly string _token;
    private readonly ActorSelection _endpoint;
    private string? _daemonNonce;

    private DaemonClient(ActorSystem system, string token, int controlPort)
    {
        _system = system;
        _token = token;
        _endpoint = system.ActorSelection($"akka.tcp://{DaemonHost.ActorSystemName}@127.0.0.1:{controlPort}/user/{ControlEndpoint.Name}");
    }

    /// <summary>
    /// A client, or null when no daemon has published a token in <paramref name="stateDirectory"/> or nothing
    /// listens on <paramref name="controlPort"/> (a token file left by a killed daemon).
    /// Throws <see cref="UnauthorizedAccessException"/> when the token exists but this user may not read it.
    /// </summary>
    /// <param name="stateDirectory">STATE_DIR, where the daemon publishes its token.</param>
    /// <param name="controlPort">CONTROL_PORT.</param>
    /// <param name="daemonMayRun">Asked when a token exists and something listens: false when no daemon can be running
    /// (nobody holds the daemon lock), so a token left behind costs no handshake wait with whatever holds the port.</param>
    public static async Task<DaemonClient?> TryCreateAsync(string stateDirectory, int controlPort, Func<Task<bool>>? daemonMayRun = null)
    {
        var token = ControlToken.Read(stateDirectory);
        if (token is null) return null;
        // A refused connection answers at once; without this probe, remoting would retry until the ask timed out.
        if (!await IsListeningAsync(controlPort).ConfigureAwait(false)) return null;
        if (daemonMayRun is not null && !await daemonMayRun().ConfigureAwait(false)) return null;
        // Akka's own log stays silent in the CLI: a daemon that exits after 'stop' drops the association,
        // which Akka reports as an error; what the user needs comes back as replies or exceptions.
        var config = ConfigurationFactory.ParseString("""
                akka.remote.dot-netty.tcp.port = 0
                akka.loglevel = OFF
                akka.stdout-loglevel = OFF
                akka.log-dead-letters = off
                akka.coordinated-shutdown.run-by-clr-shutdown-hook = off
                """)
            .WithFallback(DataSyncHocon.Load());
        var setup = BootstrapSetup.Create().WithConfig(config).And(NetworkInboundGuard.Setup());
        return new DaemonClient(ActorSystem.Create("datasync-cli", setup), token, controlPort);
    }

    /// <summary>
    /// Asks whoever listens on CONTROL_PORT to prove it holds the token. <see cref="HandshakeOutcome.NoAnswer"/>
    /// covers a listener that does not speak Akka or has no control endpoint; <see cref="HandshakeOutcome.WrongProof"/>
    /// one that answers without knowing the token. Only after <see cref="HandshakeOutcome.Verified"/> may requests follow.
    /// </summary>
    public async Task<HandshakeOutcome> HandshakeAsync(TimeSpan timeout)
    {
        var clientNonce = ControlToken.NewNonce();
        var answer = await AskRawAsync(new ControlHello(clientNonce), timeout).ConfigureAwait(false);
        if (answer is null) return HandshakeOutcome.NoAnswer;
        if (answer is not ControlHelloReply reply || !ControlToken.Matches(ControlToken.DaemonProof(_token, clientNonce), reply.Proof))
            return HandshakeOutcome.WrongProof;
        _daemonNonce = reply.DaemonNonce;
        return HandshakeOutcome.Verified;
    }

    /// <summary>The daemon's answer, or null when it did not answer within <paramref name="timeout"/>. Needs a verified handshake.</summary>
    public Task<object?> AskAsync(Func<string, ControlRequest> request, TimeSpan timeout)
    {
        var nonce = _daemonNonce ?? throw new InvalidOperationException("the daemon has not proven it holds the control token; no request is sent");
        return AskRawAsync(request(ControlToken.ClientProof(_token, nonce)), timeout);
    }

    private async Task<object?> AskRawAsync(object message, TimeSpan timeout)
    {
        try
        {
            return await _endpoint.Ask<object>(message, timeout).ConfigureAwait(false);
        }
        catch (AskTimeoutException)
        {
            return null;
        }
        catch (ActorNotFoundException)
        {
            return null;
        }
    }

    private static async Task<bool> IsListeningAsync(int port)
    {
        using var probe = new TcpClient();
        using var timeout = new CancellationTokenSource(PortProbeTimeout);
        try
        {
            await probe.ConnectAsync(IPAddress.Loopback, port, timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            // Loopback never drops packets: no answer to a connect in time is no listener we could talk to.
            return false;
        }
    }

    /// <summary>
    /// Leaves through coordinated shutdown, whose remoting phase flushes and closes the association before the
    /// system terminates, so the daemon is told the client left instead of finding the connection dropped.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await _system.WhenTerminated.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }
}
