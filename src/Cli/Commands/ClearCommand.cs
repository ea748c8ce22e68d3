using System.CommandLine;
using DataSync.Messages.Control;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync clear</c>: empties every synced local table and pauses it until <c>resync</c>.</summary>
public static class ClearCommand
{
    public static Command Build(CliContext context)
    {
        var command = new Command("clear", DataSyncCli.Describe(
            "Truncate every synced local table and leave it paused (state 'cleared') until 'datasync resync' is run for it. The sync list is kept."));
        command.SetAction((_, cancellationToken) => DataSyncCli.GuardAsync(context, () =>
            DaemonOrDatabase.RunAsync(context,
                token => new ClearRequest(token),
                handler => handler.ClearAsync(cancellationToken),
                cancellationToken)));
        return command;
    }
}
