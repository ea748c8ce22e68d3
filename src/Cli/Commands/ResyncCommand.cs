using System.CommandLine;
using DataSync.Messages.Control;

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
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, () =>
        {
            var names = TableArgument.Canonical(parse.GetValue(tables)!);
            return DaemonOrDatabase.RunAsync(context,
                token => new ResyncRequest(token, names),
                handler => handler.RequestResyncAsync(names, daemonRunning: false, cancellationToken),
                cancellationToken);
        }));
        return command;
    }
}
