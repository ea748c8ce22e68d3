using System.Text.RegularExpressions;
using DataSync.Core.Tests.Docs;

namespace DataSync.Core.Tests.Architecture;

/// <summary>
/// Rules of the message-driven pipeline, read from the sources: nothing waits on an actor with an Ask except the CLI's
/// client (whose timeouts are the CLI's, at most 30 s), and every Task.Delay is a poll of another process with a
/// deadline or a retry's backoff, never a guess at how long something inside this process takes.
/// </summary>
public sealed partial class ActorRulesTests
{
    [Fact]
    public void Only_the_cli_client_asks_an_actor_and_the_cli_waits_at_most_30_seconds()
    {
        var asking = SourceFiles().Where(f => AskCall().IsMatch(File.ReadAllText(f))).Select(Relative).ToList();
        Assert.Equal(["src/Actors/Control/DaemonClient.cs"], asking);
        var probe = File.ReadAllText(Path.Combine(DocumentedSurface.RepositoryRoot(), "src/Cli/DaemonOrDatabase.cs"));
        foreach (Match timeout in CliTimeout().Matches(probe))
            Assert.InRange(int.Parse(timeout.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 1, 30);
    }

    [Fact]
    public void Every_delay_in_src_polls_another_process_with_a_deadline_or_is_a_retry_backoff()
    {
        var unexplained = new List<string>();
        foreach (var file in SourceFiles())
        {
            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (!lines[i].Contains("Task.Delay(", StringComparison.Ordinal)) continue;
                var context = string.Join('\n', lines[Math.Max(0, i - 10)..(i + 1)]);
                if (lines[i].Contains("RetryDelay", StringComparison.Ordinal) || context.Contains("deadline", StringComparison.OrdinalIgnoreCase)
                    || context.Contains("Polling", StringComparison.OrdinalIgnoreCase))
                    continue;
                unexplained.Add($"{Relative(file)}:{i + 1}");
            }
        }

        Assert.Empty(unexplained);
    }

    private static IEnumerable<string> SourceFiles() =>
        Directory.EnumerateFiles(Path.Combine(DocumentedSurface.RepositoryRoot(), "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);

    private static string Relative(string file) => Path.GetRelativePath(DocumentedSurface.RepositoryRoot(), file).Replace('\\', '/');

    [GeneratedRegex(@"\.Ask(<[^>]+>)?\(")]
    private static partial Regex AskCall();

    [GeneratedRegex(@"TimeSpan\.FromSeconds\((\d+)\)")]
    private static partial Regex CliTimeout();
}
