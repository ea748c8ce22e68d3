using System.CommandLine;
using System.Net.Sockets;
using DataSync.Cli.Commands;
using DataSync.Core.Configuration;
using DataSync.Core.Local;
using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Cli;

/// <summary>
/// The <c>datasync</c> command line: builds the command tree and maps failures to exit codes,
/// so every command reports configuration mistakes and runtime failures the same way.
/// </summary>
public static class DataSyncCli
{
    /// <param name="outputIsTerminal">True when <paramref name="stdout"/> is a terminal (progress bars are redrawn in place there).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, Func<string, string?>? environment = null, CancellationToken cancellationToken = default,
        bool outputIsTerminal = false)
    {
        var context = new CliContext(stdout, stderr, environment ?? System.Environment.GetEnvironmentVariable) { OutputIsTerminal = outputIsTerminal };
        var root = BuildRootCommand(context);
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) context.Fail(error.Message);
            context.Fail("see 'datasync --help'");
            return ExitCodes.Usage;
        }

        // SIGTERM and Ctrl+C cancel the command's token; the daemon then needs time to finish or roll
        // back its batch, so the process is not cut short after the library's default two seconds.
        var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = TimeSpan.FromSeconds(90) };
        return await parsed.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
    }

    public static RootCommand BuildRootCommand(CliContext context)
    {
        var root = new RootCommand(
            "datasync keeps chosen tables of a production PostgreSQL 18.1 cluster in sync in a local PostgreSQL, " +
            "decoding the archived WAL segments and base backups; no connection to production.\n" +
            $"Configuration: the TOML file named by ${ConfigKeys.EnvironmentVariable}.\n{ExitCodes.HelpText}");
        root.Subcommands.Add(StartCommand.Build(context));
        root.Subcommands.Add(StopCommand.Build(context));
        root.Subcommands.Add(StatusCommand.Build(context));
        root.Subcommands.Add(ClearCommand.Build(context));
        root.Subcommands.Add(ResyncCommand.Build(context));
        root.Subcommands.Add(AddTablesCommand.Build(context));
        root.Subcommands.Add(RemoveTablesCommand.Build(context));
        root.Subcommands.Add(VerifyCommand.Build(context));
        root.Subcommands.Add(WalDumpCommand.Build(context));
        return root;
    }

    /// <summary>
    /// Runs a command body, turning the failures every command can meet into a message and an exit code:
    /// configuration and usage mistakes give 2, everything else at run time gives 1.
    /// </summary>
    public static async Task<int> GuardAsync(CliContext context, Func<Task<int>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (ConfigurationException e)
        {
            context.Fail(e.Message);
            return ExitCodes.Usage;
        }
        catch (TableNameException e)
        {
            context.Fail(e.Message);
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or TimeoutException)
        {
            context.Fail(DescribeDatabaseError(e, context.Settings));
            return ExitCodes.Failure;
        }
        catch (DataSync.Actors.Hosting.DaemonStartException e)
        {
            context.Fail(e.Message);
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException)
        {
            context.Fail("cancelled");
            return ExitCodes.Failure;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            context.Fail(e.Message);
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // Anything else is a bug or an unforeseen condition: one line on the console (the daemon's log file
            // has the stack trace when the daemon failed), not a page of frames before the message.
            context.Fail($"{e.Message} ({e.GetType().Name})");
            return ExitCodes.Failure;
        }
    }

    /// <summary>What went wrong with the local database, naming the setting to check where the server's answer points at one.</summary>
    private static string DescribeDatabaseError(Exception error, DataSyncSettings settings) => error switch
    {
        PostgresException { SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification or PostgresErrorCodes.InvalidCatalogName } =>
            LocalDatabase.Unreachable(error, settings),
        PostgresException e => $"local database {LocalDatabase.Describe(settings)}: {e.MessageText} (SQLSTATE {e.SqlState})",
        _ => $"{LocalDatabase.Unreachable(error, settings)}; is the local PostgreSQL running? Check PG_HOST and PG_PORT in {settings.SourceFile ?? "the configuration"}",
    };

    internal static string Describe(string summary) => $"{summary}\n{ExitCodes.HelpText}";
}
