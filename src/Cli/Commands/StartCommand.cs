using System.CommandLine;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync start</c>: runs the sync daemon.</summary>
public static class StartCommand
{
    public static Command Build(CliContext context)
    {
        var foreground = new Option<bool>("--foreground") { Description = "Stay attached to the terminal (for systemd, containers and tests) instead of detaching." };
        var command = new Command("start", DataSyncCli.Describe(
            "Start the sync daemon. It detaches and returns once it is up, printing its pid and log file, unless --foreground is given."));
        command.Options.Add(foreground);
        command.SetAction((_, _) => DataSyncCli.GuardAsync(context, () =>
        {
            _ = context.Settings; // a bad configuration is reported as such, before anything else
            context.Fail("start: the sync daemon is not built yet; nothing was started");
            return Task.FromResult(ExitCodes.Failure);
        }));
        return command;
    }
}
