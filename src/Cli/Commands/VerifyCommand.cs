using System.CommandLine;
using DataSync.Actors.Control;
using DataSync.Cli.Progress;
using DataSync.Cli.Verify;
using DataSync.Core.Verify;
using DataSync.Messages.Control;

namespace DataSync.Cli.Commands;

/// <summary>
/// <c>datasync verify [TABLES] [--repair]</c>: compares each local table with production's own state at the table's
/// checkpoint, restored from the newest base backup, and prints a verdict per table; exit 0 when all are identical.
/// With a running daemon the daemon does the work (holding each table at its checkpoint while the others sync) and
/// this command follows its progress; without one it runs here.
/// </summary>
public static class VerifyCommand
{
    /// <summary>Between two progress requests to the daemon.</summary>
    private static readonly TimeSpan PollEvery = TimeSpan.FromSeconds(1);

    /// <summary>A handshake's nonce lasts 15 minutes (<see cref="ControlNonces.Lifetime"/>): a long verify shakes hands again well before.</summary>
    private static readonly TimeSpan HandshakeAgainAfter = TimeSpan.FromMinutes(10);

    public static Command Build(CliContext context)
    {
        var tables = new Argument<string[]>("tables")
        {
            Arity = ArgumentArity.ZeroOrMore,
            Description = "The synced table(s) to verify; every synced table when none is given.",
        };
        var repair = new Option<bool>("--repair")
        {
            Description = "Copy the differing rows from production's restored state into the local table, in one local transaction; the table's checkpoint stays, and it resumes from there.",
        };
        var command = new Command("verify", DataSyncCli.Describe(
            "Compare synced tables with production's own state at each table's checkpoint (the newest base backup restored and replayed to exactly that LSN; " +
            "no connection to production), by hashed key ranges narrowed down to rows, and print a verdict per table with the differing keys. Writes a VERIFY row " +
            "to data_sync_logs per table. With a running daemon each table is held at its checkpoint meanwhile while the others keep syncing. " +
            "Exit 0 when every table is identical to production (with --repair: identical once repaired), 1 when one differs or could not be verified."));
        command.Arguments.Add(tables);
        command.Options.Add(repair);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            var given = parse.GetValue(tables) ?? [];
            IReadOnlyList<string> names = given.Length == 0 ? [] : TableArgument.Canonical(given);
            var repairing = parse.GetValue(repair);
            // On a terminal the bar is erased before the verdicts; otherwise the plain lines go to stderr, so stdout holds only the verdicts.
            var display = ProgressDisplays.For(context, context.Error);
            var progress = new DisplayedVerifyProgress(display);
            var connection = await DaemonOrDatabase.ConnectAsync(context).ConfigureAwait(false);
            if (connection is not { } daemon)
            {
                var result = await VerifyWithoutDaemon.RunAsync(context, names, repairing, progress, cancellationToken).ConfigureAwait(false);
                display.Clear();
                return DaemonOrDatabase.Print(context, result);
            }

            await using var client = daemon.Client;
            var answer = await client.AskAsync(token => new VerifyRequest(token, names, repairing), DaemonOrDatabase.CommandTimeout).ConfigureAwait(false);
            if (answer is ControlReply refused) return DaemonOrDatabase.Print(context, refused);
            if (answer is not VerifyStarted started)
            {
                context.Fail($"the daemon (pid {daemon.Status.ProcessId}) did not answer within {DaemonOrDatabase.CommandTimeout.TotalSeconds} s; see its log");
                return ExitCodes.Failure;
            }

            try
            {
                return await FollowAsync(context, client, daemon.Status.ProcessId, started.Job, progress, display, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // Whatever ends the wait (the verdicts, a failure, Ctrl-C), it starts on a line of its own.
                display.Clear();
            }
        }));
        return command;
    }

    /// <summary>Asks the daemon for the job's progress until it has its result, showing each report, then prints the verdicts.</summary>
    private static async Task<int> FollowAsync(CliContext context, DaemonClient client, int pid, string job, IVerifyProgress progress, IProgressDisplay display,
        CancellationToken cancellationToken)
    {
        var shook = DateTimeOffset.UtcNow;
        var unanswered = 0;
        while (true)
        {
            // Polling the daemon (another process) for the job's progress; each request has the CLI's own timeout as its deadline.
            await Task.Delay(PollEvery, cancellationToken).ConfigureAwait(false);
            if (DateTimeOffset.UtcNow - shook > HandshakeAgainAfter)
            {
                await client.HandshakeAsync(DaemonOrDatabase.ProbeTimeout).ConfigureAwait(false);
                shook = DateTimeOffset.UtcNow;
            }

            var answer = await client.AskAsync(token => new VerifyProgressRequest(token, job), DaemonOrDatabase.CommandTimeout).ConfigureAwait(false);
            if (answer is ControlReply failed)
            {
                display.Clear();
                return DaemonOrDatabase.Print(context, failed);
            }
            if (answer is not VerifyProgressReply reply)
            {
                if (++unanswered < 3) continue;
                display.Clear();
                context.Fail($"the daemon (pid {pid}) stopped answering about verify job {job}; the verify may still complete: see the VERIFY rows in data_sync_logs and its log");
                return ExitCodes.Failure;
            }

            unanswered = 0;
            if (reply.Table is not null && Enum.TryParse<VerifyPhase>(reply.Phase, ignoreCase: true, out var phase))
                            {
                progress.Report(new VerifyProgress(reply.Table, phase, reply.Detail, reply.RowsCompared, reply.RowsEstimated, TimeSpan.FromSeconds(reply.PhaseElapsedSeconds),
                    TimeSpan.FromSeconds(reply.ElapsedSeconds)));
            }

            if (reply.Result is { } result)
            {
                display.Clear();
                return DaemonOrDatabase.Print(context, result);
            }
        }
    }
}
