using System.CommandLine;
using System.CommandLine.Help;
using System.Reflection;
using DataSync.Cli;
using DataSync.Core.Configuration;

namespace DataSync.Core.Tests.Docs;

/// <summary>One thing a document must mention, and how to find it in the text.</summary>
internal sealed record DocumentedItem(string What, Func<string, bool> IsMentionedIn);

/// <summary>
/// What the code offers its users, read from the code itself (the configuration keys, the command tree,
/// the exit codes), so a key or command added later without documentation makes the docs test fail.
/// </summary>
internal static class DocumentedSurface
{
    public static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "DataSync.Actors.sln"))) return folder.FullName;
        }

        throw new InvalidOperationException($"no DataSync.Actors.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Every key in a row of the configuration table (<c>| `KEY` | default | meaning |</c>), its default in that row.</summary>
    public static IEnumerable<DocumentedItem> ConfigurationKeys()
    {
        yield return new DocumentedItem($"environment variable {ConfigKeys.EnvironmentVariable}", text => text.Contains($"`{ConfigKeys.EnvironmentVariable}`", StringComparison.Ordinal) ||
            text.Contains($"${ConfigKeys.EnvironmentVariable}", StringComparison.Ordinal) || text.Contains($"{ConfigKeys.EnvironmentVariable}=", StringComparison.Ordinal));
        foreach (var key in ConfigKeys.All)
        {
            yield return new DocumentedItem(
                $"configuration key {key.Name} (a table row '| `{key.Name}` | ...' with its default {key.Default ?? "(none)"})",
                text => TableRows(text).Any(row => row.StartsWith($"| `{key.Name}` |", StringComparison.Ordinal) &&
                                                   (key.Default is null || row.Contains(key.Default, StringComparison.Ordinal))));
        }
    }

    /// <summary>Every command of the <c>datasync</c> tree as <c>datasync CMD</c> in backticks or a code block, and each of its options.</summary>
    public static IEnumerable<DocumentedItem> Commands()
    {
        var root = DataSyncCli.BuildRootCommand(new CliContext(TextWriter.Null, TextWriter.Null, _ => null));
        foreach (var (path, command) in Walk(root, ""))
        {
            var invocation = $"datasync {path}";
            yield return new DocumentedItem($"command '{invocation}'", text => ContainsToken(text, invocation));
            foreach (var option in command.Options.Where(o => o is not HelpOption and not VersionOption && !o.Hidden))
            {
                foreach (var name in option.Aliases.Prepend(option.Name))
                    yield return new DocumentedItem($"option {name} of '{invocation}'", text => ContainsToken(text, name));
            }
        }
    }

    /// <summary>Every exit code of <see cref="ExitCodes"/> as the first cell of a table row (<c>| 2 | ...</c>).</summary>
    public static IEnumerable<DocumentedItem> ExitCodeRows() =>
        typeof(ExitCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int))
            .Select(f => (int)f.GetRawConstantValue()!)
            .Select(code => new DocumentedItem($"exit code {code} (a table row '| {code} | ...')",
                text => TableRows(text).Any(row => row.StartsWith($"| {code} |", StringComparison.Ordinal) || row.StartsWith($"| `{code}` |", StringComparison.Ordinal))));

    public static IReadOnlyList<string> MissingFrom(string text, IEnumerable<DocumentedItem> items) =>
        items.Where(item => !item.IsMentionedIn(text)).Select(item => item.What).ToList();

    private static IEnumerable<(string Path, Command Command)> Walk(Command command, string prefix)
    {
        foreach (var child in command.Subcommands.Where(c => !c.Hidden))
        {
            var path = prefix.Length == 0 ? child.Name : prefix + " " + child.Name;
            yield return (path, child);
            foreach (var nested in Walk(child, path)) yield return nested;
        }
    }

    private static IEnumerable<string> TableRows(string text) =>
        text.Split('\n').Select(line => line.Trim()).Where(line => line.StartsWith('|'));

    /// <summary>The text holds <paramref name="token"/> not as part of a longer word or option (<c>-v</c> is not found in <c>--verbose</c>).</summary>
    private static bool ContainsToken(string text, string token)
    {
        for (var at = text.IndexOf(token, StringComparison.Ordinal); at >= 0; at = text.IndexOf(token, at + 1, StringComparison.Ordinal))
        {
            var before = at == 0 ? ' ' : text[at - 1];
            var end = at + token.Length;
            var after = end == text.Length ? ' ' : text[end];
            if (!IsWordChar(before) && !IsWordChar(after)) return true;
        }

        return false;

        static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c is '-' or '_';
    }
}
