using System.CommandLine;
using DataSync.Actors.Control;
using DataSync.Cli.Progress;
using DataSync.Core.Apply;
using DataSync.Core.Local;
using DataSync.Core.Status;
using DataSync.Messages.Control;

namespace DataSync.Cli.Commands;

/// <summary><c>datasync status</c>: the spec's five status lines, then uptime and the last successful sync.</summary>
public static class StatusCommand
{
    public static Command Build(CliContext context)
    {
        var verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Add the stream's restart point (LSN and archive file), the oldest open production transaction, the spool's size, " +
                "and a line per synced table: state, checkpoint LSN, last archive file, lag behind production, why it is paused.",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print the same facts as --verbose (every line of status, the stream, the spool and each table) as one JSON object on one line, for scripts; exit codes as without it.",
        };
        var command = new Command("status", DataSyncCli.Describe(
            "Print the service status: status (active or not-started), sync frequency, start time, records synced, errors, uptime, last successful sync. " +
            "Without a daemon it also checks the local database as 'datasync start' needs it (login, the session_replication_role right): exit 1 when it cannot be used."));
        command.Options.Add(verbose);
        command.Options.Add(json);
        command.SetAction((parse, cancellationToken) => DataSyncCli.GuardAsync(context, async () =>
        {
            var settings = context.Settings;
            var connection = await DaemonOrDatabase.ConnectAsync(context).ConfigureAwait(false);
            if (connection is { } daemon)
            {
                await daemon.Client.DisposeAsync().ConfigureAwait(false);
                var status = daemon.Status;
                var report = new StatusReport(true, status.SyncFrequencySeconds, status.StartTime, status.RecordsSynced, status.Errors,
                    status.LastSuccessfulSync, DateTimeOffset.UtcNow) { Bootstrap = BootstrapLine(status.Tables), LocalDatabaseProblem = status.LocalDatabaseProblem };
                if (parse.GetValue(json))
                {
                    context.Out.Write(StatusJson.Render(report, status));
                }
                else
                {
                    context.Out.Write(report.Render());
                    if (parse.GetValue(verbose)) WriteVerbose(context, status);
                }

                // The daemon runs, but what it needs does not: a check that fails.
                if (status.LocalDatabaseProblem is null) return ExitCodes.Ok;
                context.Fail(status.LocalDatabaseProblem);
                return ExitCodes.Failure;
            }

            // No daemon: the same reading the daemon does, from what the last daemon (or engine) recorded; the
            // bootstrap resumes from there when it starts. Status still answers when the local database is down:
            // it says why, and fails as the check it is; so does a database that would refuse what start needs.
            StatusReply? recorded = null;
            string? problem;
            string? startProblem = null;
            try
            {
                await using var dataSource = await context.OpenLocalDatabaseAsync(cancellationToken).ConfigureAwait(false);
                recorded = await new ControlCommandHandler(settings, dataSource, null).StatusAsync(cancellationToken).ConfigureAwait(false);
                problem = recorded.LocalDatabaseProblem;
                if (problem is null) startProblem = await ApplySession.ProblemAsync(dataSource, settings, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (LocalDatabase.IsUnreachable(e))
            {
                problem = LocalDatabase.Unreachable(e, settings);
            }

            var stopped = new StatusReport(false, settings.DataSyncFreqSeconds, null, 0, 0, recorded?.LastSuccessfulSync, DateTimeOffset.UtcNow)
            {
                Bootstrap = recorded is null ? null : BootstrapLine(recorded.Tables),
                LocalDatabaseProblem = problem,
                StartProblem = startProblem,
            };
            if (parse.GetValue(json))
            {
                context.Out.Write(StatusJson.Render(stopped, problem is null ? recorded : null));
            }
            else
            {
                context.Out.Write(stopped.Render());
                if (parse.GetValue(verbose) && recorded is not null && problem is null) WriteVerbose(context, recorded);
            }

            if ((problem ?? startProblem) is not { } failure) return ExitCodes.Ok;
            context.Fail(failure);
            return ExitCodes.Failure;
        }));
        return command;
    }

    /// <summary>The stream's lines (restart point, oldest open transaction, spool), the running bootstrap's progress, then one line per table.</summary>
    private static void WriteVerbose(CliContext context, StatusReply status)
    {
        foreach (var line in status.StreamLines ?? []) context.Out.WriteLine(line);
        if (status.BootstrapProgress is { } running)
            context.Out.WriteLine("bootstrap progress: " + ProgressText.Line(BootstrapFrame.From(string.Join(", ", running.Tables), running, running.Tables)));
        foreach (var table in status.Tables)
        {
            context.Out.WriteLine(
                $"table {table.Table}: state {table.State}, checkpoint {table.CheckpointLsn ?? "-"}, last archive file {table.LastArchiveFile ?? "-"}, " +
                $"lag {(table.Lag is { } lag ? $"{(long)lag.TotalSeconds} s" : "-")}{(table.Detail is null ? "" : $"; {table.Detail}")}");
        }
    }

    /// <summary>"public.a, public.b: bootstrap failing since …": the tables whose bootstrap is held, with why (they share one cause).</summary>
    private static string? BootstrapLine(IReadOnlyList<TableStatus> tables)
    {
        var held = tables.Where(t => t.BootstrapHeld).ToList();
        return held.Count == 0 ? null : $"{string.Join(", ", held.Select(t => t.Table))}: {held[0].Detail}";
    }
}
