using System.CommandLine;
using DataSync.Core.Status;
using Npgsql;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync status</c>: the spec's five status lines, then uptime and the last successful sync.</summary>
public static class StatusCommand
{
    public static Command Build(CliContext context)
    {
        var command = new Command("status", DataSyncCli.Describe(
            "Print the service status: status (active or not-started), sync frequency, start time, records synced, errors, uptime, last successful sync."));
        command.SetAction((_, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            var settings = context.Settings;
            DateTimeOffset? lastSuccess = null;
            try
            {
                await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
                await using var query = dataSource.CreateCommand("SELECT max(sync_time) FROM data_sync_logs WHERE status = 'SUCCESS'");
                if (await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime last)
                    lastSuccess = new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc));
            }
            catch (NpgsqlException e)
            {
                // Status still answers when the local database is down; it says why the last line is unknown.
                context.Fail($"warning: local database unreachable, last successful sync unknown: {e.Message}");
            }

            // No daemon exists yet, so it is never active: counts since start are zero.
            var report = new StatusReport(false, settings.DataSyncFreqSeconds, null, 0, 0, lastSuccess, DateTimeOffset.UtcNow);
            context.Out.Write(report.Render());
            return ExitCodes.Ok;
        }));
        return command;
    }
}
