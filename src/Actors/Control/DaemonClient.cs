using Akka.Actor;
using Akka.Configuration;
using DataSync.Actors.Daemon;
using DataSync.Actors.Hosting;
using DataSync.Messages.Control;

namespace DataSync.Actors.Control;

/// <summary>
/// The CLI's side of the control channel: a short-lived actor system on a loopback port of its own
/// that asks the daemon's control endpoint, with an explicit timeout. No token file, or no answer in
/// time, both mean "no daemon running".
/// </summary>
public sealed class DaemonClient : IAsyncDisposable
{
    private readonly ActorSystem _system;
    private readonly string _token;
    private readonly ActorSelection _endpoint;

    private DaemonClient(ActorSystem system, string token, int controlPort)
    {
        _system = system;
        _token = token;
        _endpoint = system.ActorSelection($"akka.tcp://{DaemonHost.ActorSystemName}@127.0.0.1:{controlPort}/user/{ControlEndpoint.Name}");
    }

    public string Token => _token;

    /// <summary>
    /// A client, or null when no daemon has published a token in <paramref name="stateDirectory"/>.
    /// Throws <see cref="UnauthorizedAccessException"/> when the token exists but this user may not read it.
    /// </summary>
    public static DaemonClient? TryCreate(string stateDirectory, int controlPort)
    {
        var token = ControlToken.Read(stateDirectory);
        if (token is null) return null;
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
        return new DaemonClient(ActorSystem.Create("datasync-cli", config), token, controlPort);
    }

    /// <summary>The daemon's answer, or null when it did not answer within <paramref name="timeout"/>.</summary>
    public async Task<object?> AskAsync(Func<string, ControlRequest> request, TimeSpan timeout)
    {
        try
        {
            return await _endpoint.Ask<object>(request(_token), timeout).ConfigureAwait(false);
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

    public async ValueTask DisposeAsync()
    {
        await _system.Terminate().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
    }
}
