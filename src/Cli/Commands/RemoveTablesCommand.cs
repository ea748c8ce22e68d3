using System.CommandLine;
using DataSync.Core.Tables;

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
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            var names = TableNameParser.ParseList(parse.GetValue(tables)!);
            await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var changes = await new TableRegistry(dataSource).RemoveAsync(names, cancellationToken).ConfigureAwait(false);
            return TableArgument.Report(context, changes);
        }));
        return command;
    }
}
