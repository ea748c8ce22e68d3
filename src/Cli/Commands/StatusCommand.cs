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
                    status.LastSuccessfulSync, DateTimeOffset.UtcNow) { Bootstrap = BootstrapLine(status.Tables) }.Render());
                if (parse.GetValue(verbose))
                {
                    foreach (var table in status.Tables)
                    {
                        context.Out.WriteLine(
                            $"table {table.Table}: state {table.State}, checkpoint {table.CheckpointLsn ?? "-"}, last archive file {table.LastArchiveFile ?? "-"}, " +
                            $"lag {(table.Lag is { } lag ? $"{(long)lag.TotalSeconds} s" : "-")}{(table.Detail is null ? "" : $"; {table.Detail}")}");
                    }
                }

                return ExitCodes.Ok;
            }

            DateTimeOffset? lastSuccess = null;
            string? bootstrap = null;
            try
            {
                await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
                lastSuccess = await ControlCommandHandler.LastSuccessfulSyncAsync(dataSource, cancellationToken).ConfigureAwait(false);
                // What the last daemon (or engine) recorded: the bootstrap resumes from there when it starts.
                bootstrap = BootstrapLine(await ControlCommandHandler.TablesAsync(dataSource, cancellationToken).ConfigureAwait(false));
            }
            catch (NpgsqlException e)
            {
                // Status still answers when the local database is down; it says why the last line is unknown.
                context.Fail($"warning: local database unreachable, last successful sync unknown: {e.Message}");
            }

            context.Out.Write(new StatusReport(false, settings.DataSyncFreqSeconds, null, 0, 0, lastSuccess, DateTimeOffset.UtcNow) { Bootstrap = bootstrap }.Render());
            return ExitCodes.Ok;
        }));
        return command;
    }

    /// <summary>"public.a, public.b: bootstrap failing since …": the tables whose bootstrap is held, with why (they share one cause).</summary>
    private static string? BootstrapLine(IReadOnlyList<DataSync.Messages.Control.TableStatus> tables)
    {
        var held = tables.Where(t => t.BootstrapHeld).ToList();
        return held.Count == 0 ? null : $"{string.Join(", ", held.Select(t => t.Table))}: {held[0].Detail}";
    }
}
