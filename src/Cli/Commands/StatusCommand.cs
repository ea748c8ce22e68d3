using System.CommandLine;
using DataSync.Actors.Control;
using DataSync.Core.Status;
using Npgsql;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync status</c>: the spec's five status lines, then uptime and the last successful sync.</summary>
public static class StatusCommand
{
    public static Command Build(CliContext context)
    {
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Add a line per synced table: state, checkpoint LSN, last archive file, lag." };
        var command = new Command("status", DataSyncCli.Describe(
            "Print the service status: status (active or not-started), sync frequency, start time, records synced, errors, uptime, last successful sync."));
        command.Options.Add(verbose);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            var settings = context.Settings;
            var connection = await DaemonOrDatabase.ConnectAsync(context).ConfigureAwait(false);
            if (connection is { } daemon)
            {
                await daemon.Client.DisposeAsync().ConfigureAwait(false);
                var status = daemon.Status;
                context.Out.Write(new StatusReport(true, status.SyncFrequencySeconds, status.StartTime, status.RecordsSynced, status.Errors,
                    status.LastSuccessfulSync, DateTimeOffset.UtcNow).Render());
                if (parse.GetValue(verbose))
                {
                    foreach (var table in status.Tables)
                    {
                        context.Out.WriteLine(
                            $"table {table.Table}: state {table.State}, checkpoint {table.CheckpointLsn ?? "-"}, last archive file {table.LastArchiveFile ?? "-"}, " +
                            $"lag {(table.Lag is { } lag ? $"{(long)lag.TotalSeconds} s" : "-")}");
                    }
                }

                return ExitCodes.Ok;
            }

            DateTimeOffset? lastSuccess = null;
            try
            {
                await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
                lastSuccess = await ControlCommandHandler.LastSuccessfulSyncAsync(dataSource, cancellationToken).ConfigureAwait(false);
            }
            catch (NpgsqlException e)
            {
                // Status still answers when the local database is down; it says why the last line is unknown.
                context.Fail($"warning: local database unreachable, last successful sync unknown: {e.Message}");
            }

            context.Out.Write(new StatusReport(false, settings.DataSyncFreqSeconds, null, 0, 0, lastSuccess, DateTimeOffset.UtcNow).Render());
            return ExitCodes.Ok;
        }));
        return command;
    }
}
