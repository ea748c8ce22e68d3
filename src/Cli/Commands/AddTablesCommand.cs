using System.CommandLine;
using DataSync.Core.Tables;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync add-tables NAMES...</c>: adds tables to the sync whitelist after checking each can be synced.</summary>
public static class AddTablesCommand
{
    public static Command Build(CliContext context)
    {
        var tables = TableArgument.Create("Tables to start syncing: names separated by commas and/or spaces, optionally schema-qualified (default schema public); quote unusual names as in SQL.");
        var command = new Command("add-tables", DataSyncCli.Describe(
            "Add tables to the sync list. Each must exist locally with the production DDL, have a primary key or replica identity index, " +
            "and use only supported column types; if any is refused, none is added."));
        command.Arguments.Add(tables);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            var names = TableNameParser.ParseList(parse.GetValue(tables)!);
            await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var changes = await new TableRegistry(dataSource).AddAsync(names, Environment.UserName, cancellationToken).ConfigureAwait(false);
            return TableArgument.Report(context, changes);
        }));
        return command;
    }
}
