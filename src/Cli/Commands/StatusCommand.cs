using System.CommandLine;
using DataSync.Actors.Control;
using DataSync.Core.Local;
using DataSync.Core.Status;

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
                    status.LastSuccessfulSync, DateTimeOffset.UtcNow) { Bootstrap = BootstrapLine(status.Tables), LocalDatabaseProblem = status.LocalDatabaseProblem }.Render());
                if (parse.GetValue(verbose))
                {
                    foreach (var table in status.Tables)
                    {
                        context.Out.WriteLine(
                            $"table {table.Table}: state {table.State}, checkpoint {table.CheckpointLsn ?? "-"}, last archive file {table.LastArchiveFile ?? "-"}, " +
                            $"lag {(table.Lag is { } lag ? $"{(long)lag.TotalSeconds} s" : "-")}{(table.Detail is null ? "" : $"; {table.Detail}")}");
                    }
                }

                // The daemon runs, but what it needs does not: a check that fails.
                return status.LocalDatabaseProblem is null ? ExitCodes.Ok : ExitCodes.Failure;
            }

            // No daemon: the same reading the daemon does, from what the last daemon (or engine) recorded; the
            // bootstrap resumes from there when it starts. Status still answers when the local database is down:
            // it says why, and fails as the check it is.
            DateTimeOffset? lastSuccess = null;
            string? problem;
            string? bootstrap = null;
            try
            {
                await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
                var recorded = await new ControlCommandHandler(settings, dataSource, null).StatusAsync(cancellationToken).ConfigureAwait(false);
                (lastSuccess, problem, bootstrap) = (recorded.LastSuccessfulSync, recorded.LocalDatabaseProblem, BootstrapLine(recorded.Tables));
            }
            catch (Exception e) when (LocalDatabase.IsUnreachable(e))
            {
                problem = LocalDatabase.Unreachable(e, settings);
            }

            context.Out.Write(new StatusReport(false, settings.DataSyncFreqSeconds, null, 0, 0, lastSuccess, DateTimeOffset.UtcNow)
            {
                Bootstrap = bootstrap,
                LocalDatabaseProblem = problem,
            }.Render());
            return problem is null ? ExitCodes.Ok : ExitCodes.Failure;
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
