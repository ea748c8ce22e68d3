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
        var wait = new Option<bool>("--wait")
        {
            Description = "Follow the resync in the running daemon until the tables sync again (exit 0) or it fails (exit 1, with why): " +
                "a progress bar on a terminal (phase, bytes restored, WAL replayed, rows copied, rate, time left), a plain line every 2 s otherwise. " +
                "Ctrl+C stops waiting; the resync goes on.",
        };
        command.Arguments.Add(tables);
        command.Options.Add(wait);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, () =>
        {
            var names = TableArgument.Canonical(parse.GetValue(tables)!);
            if (parse.GetValue(wait)) return ResyncWait.RunAsync(context, names, cancellationToken);
            return DaemonOrDatabase.RunAsync(context,
                token => new ResyncRequest(token, names),
                handler => handler.RequestResyncAsync(names, daemonRunning: false, cancellationToken),
                cancellationToken);
        }));
        return command;
    }
}
