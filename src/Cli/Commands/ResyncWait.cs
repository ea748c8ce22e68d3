using DataSync.Actors.Control;
using DataSync.Cli.Progress;
using DataSync.Messages.Control;

namespace DataSync.Cli.Commands;

/// <summary>
/// <c>datasync resync TABLES --wait</c>: asks the running daemon for the resync, then follows the tables' bootstrap until
/// every one syncs again (exit 0) or one fails (exit 1 with the failure's message), showing its progress on
/// <see cref="IProgressDisplay"/>. A bootstrap that waits (for WAL to be archived, for transactions to end) is followed
/// on: it goes on by itself. The wait ends, and the resync goes on in the daemon, on Ctrl+C.
/// </summary>
internal static class ResyncWait
{
    /// <summary>How often the daemon is asked.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one question may take before it counts as unanswered.</summary>
    private static readonly TimeSpan PollTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Questions left unanswered in a row before the daemon counts as gone.</summary>
    private const int MostUnanswered = 6;

    /// <summary>A fresh handshake well within a nonce's lifetime (<see cref="ControlNonces.Lifetime"/>), for resyncs that take hours.</summary>
    private static readonly TimeSpan HandshakeAgainAfter = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(CliContext context, IReadOnlyList<string> tables, CancellationToken cancellationToken)
    {
        var connection = await DaemonOrDatabase.ConnectAsync(context).ConfigureAwait(false);
        if (connection is not { } daemon)
        {
            await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var recorded = DaemonOrDatabase.Print(context,
                await new ControlCommandHandler(context.Settings, dataSource, null).RequestResyncAsync(tables, daemonRunning: false, cancellationToken).ConfigureAwait(false));
            if (recorded != ExitCodes.Ok) return recorded;
            context.Fail("--wait follows a resync in the running daemon, and none runs: start it with 'datasync start' (the resync then runs) and follow it with 'datasync status --verbose'");
            return ExitCodes.Failure;
        }

        await using var client = daemon.Client;
        var requestedAt = DateTimeOffset.UtcNow;
        var answer = await client.AskAsync(token => new ResyncRequest(token, tables), DaemonOrDatabase.CommandTimeout).ConfigureAwait(false);
        if (answer is not ControlReply reply)
        {
            context.Fail($"the daemon (pid {daemon.Status.ProcessId}) did not answer within {DaemonOrDatabase.CommandTimeout.TotalSeconds} s; the request may still complete: see datasync status --verbose and its log");
            return ExitCodes.Failure;
        }

        var display = ProgressDisplays.For(context);
        foreach (var line in reply.Output) display.Message(line);
        foreach (var line in reply.Errors) context.Fail(line);
        if (reply.ExitCode != ExitCodes.Ok) return reply.ExitCode;

        var subject = $"resync {string.Join(", ", tables)}";
        var unanswered = 0;
        var handshakeAt = DateTimeOffset.UtcNow;
        try
        {
            while (true)
            {
                if (DateTimeOffset.UtcNow - handshakeAt > HandshakeAgainAfter && await client.HandshakeAsync(PollTimeout).ConfigureAwait(false) == HandshakeOutcome.Verified)
                    handshakeAt = DateTimeOffset.UtcNow;
                var progress = await client.AskAsync(token => new BootstrapProgressRequest(token, tables), PollTimeout).ConfigureAwait(false);
                if (progress is BootstrapProgressReply now)
                {
                    unanswered = 0;
                    if (Judge(subject, now, requestedAt) is { } verdict)
                    {
                        display.Finish(verdict.Line);
                        if (verdict.ExitCode != ExitCodes.Ok) context.Fail(verdict.Line);
                        return verdict.ExitCode;
                    }

                    display.Show(Frame(subject, now, tables));
                }
                else if (progress is ControlReply { Errors.Count: > 0 } refused)
                {
                    display.Finish($"{subject}: the daemon refused to report progress");
                    context.Fail(refused.Errors[0]);
                    return ExitCodes.Failure;
                }
                else if (++unanswered >= MostUnanswered)
                {
                    display.Finish($"{subject}: the daemon (pid {daemon.Status.ProcessId}) stopped answering");
                    context.Fail($"the daemon (pid {daemon.Status.ProcessId}) did not answer for {MostUnanswered} questions in a row; the resync may still complete: see datasync status --verbose and its log");
                    return ExitCodes.Failure;
                }

                // Polling the daemon (another process, which tells no one when a bootstrap moves on); a daemon that stops
                // answering ends the wait after MostUnanswered questions, and Ctrl+C ends it at any time.
                await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            display.Finish($"{subject}: stopped waiting; the resync goes on in the daemon (see datasync status --verbose)");
            return ExitCodes.Failure;
        }
    }

    /// <summary>The end of the wait, with its last line and exit code: every table syncs again, or one failed; null while it goes on.</summary>
    internal static (int ExitCode, string Line)? Judge(string subject, BootstrapProgressReply reply, DateTimeOffset requestedAt)
    {
        foreach (var table in reply.Tables)
        {
            if (table.State is "failed" or "paused" or "cleared")
                return (ExitCodes.Failure, $"resync of {table.Table} failed: {table.Detail ?? $"the table is {table.State}"}");
            if (table.LastAttemptFailed is true && table.LastAttemptAt >= requestedAt && table.State != "syncing")
                return (ExitCodes.Failure, $"resync of {table.Table} failed: {table.LastAttemptMessage} (the daemon retries it by itself; see datasync status --verbose)");
        }

        if (reply.Tables.Count == 0 || reply.Tables.Any(t => t.State != "syncing")) return null;
        return (ExitCodes.Ok, $"{subject}: done, synced again ({string.Join("; ", reply.Tables.Select(Copied))})");
    }

    /// <summary><c>public.t: 40,000 rows copied in 9s</c>, from the table's newest BOOTSTRAP row.</summary>
    private static string Copied(BootstrapTableStanding table)
    {
        if (table.RowsCopied is not { } rows) return $"{table.Table}: copied";
        var took = table.CopyMilliseconds is { } ms ? $" in {ProgressText.Duration(TimeSpan.FromMilliseconds(ms))}" : "";
        return $"{table.Table}: {ProgressText.Count(rows)} rows copied{took}";
    }

    /// <summary>What to show now: the running bootstrap's progress, or why none runs for these tables yet.</summary>
    private static ProgressFrame Frame(string subject, BootstrapProgressReply reply, IReadOnlyList<string> tables)
    {
        // An attempt whose copies of these tables have all committed is one that ran before the resync was asked for (or
        // is finishing: the tables then sync at the next question); it is not this resync's progress.
        if (reply.Running is { } running && !(running.Copies.Any(c => tables.Contains(c.Table)) && running.Copies.Where(c => tables.Contains(c.Table)).All(c => c.Done)))
            return BootstrapFrame.From(subject, running, tables);
        var waiting = reply.Tables.FirstOrDefault(t => t.LastAttemptFailed is false && t.State != "syncing");
        return waiting is not null
            ? new ProgressFrame(subject, "waiting to try again", 0, null, ProgressUnit.None, null, null, waiting.LastAttemptMessage)
            : new ProgressFrame(subject, "queued (the daemon starts it next)", 0, null, ProgressUnit.None, null, null);
    }
}
