using System.CommandLine;
using DataSync.Core.Tables;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync clear</c>: empties every synced local table and pauses it until <c>resync</c>.</summary>
public static class ClearCommand
{
    public static Command Build(CliContext context)
    {
        var command = new Command("clear", DataSyncCli.Describe(
            "Truncate every synced local table and leave it paused (state 'cleared') until 'datasync resync' is run for it. The sync list is kept."));
        command.SetAction((_, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var cleared = await new TableMaintenance(dataSource, new TableRegistry(dataSource)).ClearAllAsync(cancellationToken).ConfigureAwait(false);
            if (cleared.Count == 0) context.Out.WriteLine("no tables are synced; nothing to clear");
            foreach (var table in cleared) context.Out.WriteLine($"cleared {table} (paused until: datasync resync {table})");
            return ExitCodes.Ok;
        }));
        return command;
    }
}
