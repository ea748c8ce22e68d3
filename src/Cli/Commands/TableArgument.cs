using System.CommandLine;
using DataSync.Core.Tables;

namespace DataSync.Cli.Commands;

/// <summary>The table-list argument shared by add-tables, remove-tables and resync.</summary>
internal static class TableArgument
{
    public static Argument<string[]> Create(string description) =>
        new("tables") { Arity = ArgumentArity.OneOrMore, Description = description };

    /// <summary>Parses the list (a <see cref="TableNameException"/> is a usage error) into canonical names that parse back the same.</summary>
    public static IReadOnlyList<string> Canonical(string[] arguments) =>
        TableNameParser.ParseList(arguments).Select(t => t.ToString()).ToList();
}
