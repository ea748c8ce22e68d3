using DataSync.Actors.Control;
using DataSync.Actors.Daemon;
using DataSync.Core.Local;
using DataSync.Messages.Control;

namespace DataSync.Cli;

/// <summary>
/// Runs a command on the running daemon when there is one (over the control channel, so the daemon
/// acts at once) and directly on the database otherwise (the daemon acts on its next start).
/// Both paths run the same <see cref="ControlCommandHandler"/> code and print the same lines.
/// </summary>
internal static class DaemonOrDatabase
{
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    /// <summary>
    /// How long the CLI waits for a request's answer. The daemon runs the request on its own whatever the CLI does,
    /// so a longer wait would only hold the terminal: past it, the request may still complete (status tells).
    /// </summary>
    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A status read waits for the database's own connect timeout (15 s) before it reports the database unreachable.</summary>
    public static readonly TimeSpan StatusTimeout = TimeSpan.FromSeconds(25);

    /// <summary>
    /// A client whose daemon proved it holds the control token and answered a status request, with that answer;
    /// null when none runs. Throws <see cref="NotOurDaemonException"/> when something else listens on CONTROL_PORT:
    /// then nothing but a nonce was sent to it, and nothing falls back to the database behind a running daemon's back.
    /// </summary>
    public static async Task<(DaemonClient Client, StatusReply Status)?> ConnectAsync(CliContext context)
    {
        DaemonClient? client;
        try
        {
            client = await DaemonClient.TryCreateAsync(context.Settings.StateDir, context.Settings.ControlPort, () => DaemonMayRunAsync(context)).ConfigureAwait(false);
        }
        catch (UnauthorizedAccessException)
        {
            throw new UnauthorizedAccessException(
                $"cannot read the daemon's control token in {context.Settings.StateDir}: only the OS user that runs the daemon (or root) can control it");
        }

        if (client is null) return null;
        var handshake = await client.HandshakeAsync(ProbeTimeout).ConfigureAwait(false);
        if (handshake != HandshakeOutcome.Verified)
        {
            await client.DisposeAsync().ConfigureAwait(false);
            var port = context.Settings.ControlPort;
            throw new NotOurDaemonException(
                $"the process listening on 127.0.0.1:{port} (CONTROL_PORT) is not this datasync daemon: " +
                (handshake == HandshakeOutcome.WrongProof
                    ? "it answered without proving it holds the control token"
                    : $"it did not answer the control handshake within {ProbeTimeout.TotalSeconds} s") +
                $" in {Actors.Daemon.ControlToken.PathIn(context.Settings.StateDir)}; no request was sent to it. " +
                $"Find it with 'ss -ltnp sport = :{port}', or wait if a daemon is still starting or stopping");
        }

        // The daemon proved itself: it runs. A status it cannot give (it answers even when its database is down) is an error, never "not running".
        var answer = await client.AskAsync(token => new StatusRequest(token, Verbose: true), StatusTimeout).ConfigureAwait(false);
        if (answer is StatusReply status) return (client, status);
        await client.DisposeAsync().ConfigureAwait(false);
        throw new DaemonUnresponsiveException(answer is ControlReply { Errors.Count: > 0 } failed
            ? $"the daemon is running but could not report its status: {failed.Errors[0]}"
            : $"the daemon is running (it answered the control handshake) but did not report its status within {StatusTimeout.TotalSeconds} s; see its log");
    }

    /// <summary>
    /// False only when the local database says no session holds the daemon lock: then no daemon of this database
    /// runs, whatever a token file left behind or a program on CONTROL_PORT suggest. Unknown (the database
    /// unreachable) counts as "may run", and the handshake decides.
    /// </summary>
    private static async Task<bool> DaemonMayRunAsync(CliContext context)
    {
        try
        {
            await using var dataSource = LocalDatabase.CreateDataSource(context.Settings, "datasync-cli");
            using var timeout = new CancellationTokenSource(ProbeTimeout);
            return await DaemonLock.IsHeldAsync(dataSource, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (LocalDatabase.IsUnreachable(e) || e is OperationCanceledException)
        {
            return true;
        }
    }

    public static async Task<int> RunAsync(
        CliContext context,
        Func<string, ControlRequest> remote,
        Func<ControlCommandHandler, Task<ControlReply>> local,
        CancellationToken cancellationToken)
    {
        var connection = await ConnectAsync(context).ConfigureAwait(false);
        if (connection is { } daemon)
        {
            await using var client = daemon.Client;
            var answer = await client.AskAsync(remote, CommandTimeout).ConfigureAwait(false);
            if (answer is ControlReply reply) return Print(context, reply);
            context.Fail($"the daemon (pid {daemon.Status.ProcessId}) did not answer within {CommandTimeout.TotalSeconds} s; the request may still complete: see datasync status --verbose and its log");
            return ExitCodes.Failure;
        }

        await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
        return Print(context, await local(new ControlCommandHandler(context.Settings, dataSource, null)).ConfigureAwait(false));
    }

    public static int Print(CliContext context, ControlReply reply)
    {
        foreach (var line in reply.Output) context.Out.WriteLine(line);
        foreach (var line in reply.Errors) context.Fail(line);
        return reply.ExitCode;
    }
}
