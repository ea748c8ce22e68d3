using System.CommandLine;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync stop</c>: stops the sync daemon gracefully.</summary>
public static class StopCommand
{
    public static Command Build(CliContext context)
    {
        var command = new Command("stop", DataSyncCli.Describe(
            "Stop the sync daemon gracefully (the batch in flight commits or rolls back) and return once it has exited."));
        command.SetAction((_, _) => DataSyncCli.GuardAsync(context, () =>
        {
            _ = context.Settings;
            context.Out.WriteLine("no daemon is running (the sync daemon is not built yet); nothing to stop");
            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }
}
