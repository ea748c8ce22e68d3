using System.CommandLine;
using DataSync.Messages.Control;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync stop</c>: stops the sync daemon gracefully and returns once its process is gone.</summary>
public static class StopCommand
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(120);

    public static Command Build(CliContext context)
    {
        var command = new Command("stop", DataSyncCli.Describe(
            "Stop the sync daemon gracefully (the batch in flight commits or rolls back) and return once it has exited."));
        command.SetAction((_, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            if (await DaemonOrDatabase.ConnectAsync(context).ConfigureAwait(false) is not { } daemon)
            {
                context.Out.WriteLine("datasync is not running; nothing to stop");
                return ExitCodes.Ok;
            }

            await using (daemon.Client)
            {
                var pid = daemon.Status.ProcessId;
                if (await daemon.Client.AskAsync(token => new StopRequest(token), DaemonOrDatabase.ProbeTimeout).ConfigureAwait(false) is not ControlReply)
                {
                    context.Fail($"the daemon (pid {pid}) did not acknowledge the stop request");
                    return ExitCodes.Failure;
                }

                // The acknowledged stop ends another process; only its disappearance says it is done, so this polls for it, with a deadline.
                var deadline = DateTime.UtcNow + ExitTimeout;
                while (Directory.Exists($"/proc/{pid}"))
                {
                    if (DateTime.UtcNow > deadline)
                    {
                        context.Fail($"the daemon (pid {pid}) is still running {ExitTimeout.TotalSeconds} s after the stop request; see its log");
                        return ExitCodes.Failure;
                    }

                    await Task.Delay(100, cancellationToken).ConfigureAwait(false);
                }

                context.Out.WriteLine($"datasync stopped (pid {pid})");
                return ExitCodes.Ok;
            }
        }));
        return command;
    }
}
