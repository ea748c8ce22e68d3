using Serilog.Events;

namespace DataSync.Actors.Hosting;

/// <summary>
/// Tells remoting's reports of a CLI connection ending from real trouble. Every association the daemon has is a
/// CLI call (the control channel is loopback only). When the CLI leaves, even through coordinated shutdown as
/// <see cref="Control.DaemonClient"/> does, remoting reports the closed connection with an
/// <c>EndpointDisassociatedException</c> at error level with a stack trace (and, when the client just exits, a
/// failed association at warning level), and drops the connection's buffers with an info line. That is
/// how every CLI call ends: not worth an operator's alert. The CLI learns of its own failures itself; the
/// daemon's log keeps remoting's other warnings and errors.
/// </summary>
public static class RemoteLifecycle
{
    private static readonly HashSet<string> ClosedConnectionErrors =
    [
        "Akka.Remote.EndpointDisassociatedException",
        "Akka.Remote.ShutDownAssociation",
    ];

    /// <summary>True for remoting's lines about a connection that closed (matched by what only remoting writes, not by its logger's name).</summary>
    public static bool IsRoutine(LogEvent logEvent) =>
        IsClosedConnection(logEvent.Exception)
        || logEvent.MessageTemplate.Text.StartsWith("Removing receive buffers", StringComparison.Ordinal)
        || logEvent.MessageTemplate.Text.StartsWith("Association with remote system", StringComparison.Ordinal)
            && logEvent.Properties.Values.Any(v => ClosedConnectionErrors.Any(error => v.ToString().Contains(error, StringComparison.Ordinal)));

    private static bool IsClosedConnection(Exception? error) =>
        error is not null && (ClosedConnectionErrors.Contains(error.GetType().FullName!) || IsClosedConnection(error.InnerException));
}
