using System.CommandLine;
using DataSync.Core.Tables;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync resync TABLE</c>: reloads one table from the newest base backup while the others keep syncing.</summary>
public static class ResyncCommand
{
    public static Command Build(CliContext context)
    {
        var tables = TableArgument.Create("The synced table(s) to reload from scratch.");
        var command = new Command("resync", DataSyncCli.Describe(
            "Drop a synced table's local rows and load it again from the newest base backup plus the WAL archive; other tables keep syncing. " +
            "Without a running daemon the request is recorded and carried out when the daemon starts."));
        command.Arguments.Add(tables);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            var names = TableNameParser.ParseList(parse.GetValue(tables)!);
            await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var changes = await new TableMaintenance(dataSource, new TableRegistry(dataSource)).RequestResyncAsync(names, cancellationToken).ConfigureAwait(false);
            foreach (var change in changes)
            {
                switch (change.Outcome)
                {
                    case TableListOutcome.Added:
                        context.Out.WriteLine($"resync of {change.Table} requested; no daemon is running, so it runs when the daemon starts (the sync daemon is not built yet)");
                        break;
                    case TableListOutcome.NotListed:
                        context.Fail($"{change.Table} is not in the sync list (add it with datasync add-tables)");
                        break;
                    default:
                        context.Fail(change.ToString());
                        break;
                }
            }

            return changes.All(c => c.Outcome == TableListOutcome.Added) ? ExitCodes.Ok : ExitCodes.Failure;
        }));
        return command;
    }
}
