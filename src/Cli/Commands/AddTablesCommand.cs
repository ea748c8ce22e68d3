using System.CommandLine;
using DataSync.Core.Tables;
using DataSync.Messages.Control;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync add-tables NAMES...</c>: adds tables to the sync whitelist after checking each can be synced.</summary>
public static class AddTablesCommand
{
    public static Command Build(CliContext context)
    {
        var tables = TableArgument.Create("Tables to start syncing: names separated by commas and/or spaces, optionally schema-qualified (default schema public); quote unusual names as in SQL.");
        var command = new Command("add-tables", DataSyncCli.Describe(
            "Add tables to the sync list. Each must exist locally with the production DDL, have a primary key or replica identity index, " +
            "and use only supported column types; if any is refused, none is added. A running daemon starts syncing them at once."));
        command.Arguments.Add(tables);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, () =>
        {
            // Parsed here first so a malformed list is a usage error before anything is contacted.
            var names = TableArgument.Canonical(parse.GetValue(tables)!);
            var creator = Environment.UserName;
            return DaemonOrDatabase.RunAsync(context,
                token => new AddTablesRequest(token, names, creator),
                handler => handler.AddTablesAsync(names, creator, cancellationToken),
                cancellationToken);
        }));
        return command;
    }
}
