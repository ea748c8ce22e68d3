using System.CommandLine;
using DataSync.Messages.Control;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync remove-tables NAMES...</c>: stops syncing tables and forgets their checkpoints; local data stays.</summary>
public static class RemoveTablesCommand
{
    public static Command Build(CliContext context)
    {
        var tables = TableArgument.Create("Tables to stop syncing (same syntax as add-tables).");
        var command = new Command("remove-tables", DataSyncCli.Describe(
            "Remove tables from the sync list and forget their checkpoints. Their local rows are left as they are."));
        command.Arguments.Add(tables);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, () =>
        {
            var names = TableArgument.Canonical(parse.GetValue(tables)!);
            return DaemonOrDatabase.RunAsync(context,
                token => new RemoveTablesRequest(token, names),
                handler => handler.RemoveTablesAsync(names, cancellationToken),
                cancellationToken);
        }));
        return command;
    }
}
