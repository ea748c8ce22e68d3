using System.CommandLine;
using DataSync.Core.Tables;

namespace DataSync.Cli.Commands;

/// <summary>The table-list argument shared by add-tables, remove-tables and resync, and how their outcomes are printed.</summary>
internal static class TableArgument
{
    public static Argument<string[]> Create(string description) =>
        new("tables") { Arity = ArgumentArity.OneOrMore, Description = description };

    /// <summary>Prints one line per table; any refusal makes the command fail.</summary>
    public static int Report(CliContext context, IReadOnlyList<TableListChange> changes)
    {
        foreach (var change in changes)
        {
            if (change.Outcome == TableListOutcome.Refused) context.Fail(change.ToString());
            else context.Out.WriteLine(change);
        }

        return changes.Any(c => c.Outcome == TableListOutcome.Refused) ? ExitCodes.Failure : ExitCodes.Ok;
    }
}
