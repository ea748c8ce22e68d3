using System.Text.RegularExpressions;
using DataSync.Cli;

namespace DataSync.Core.Tests.Cli;

/// <summary>
/// Runs the datasync command line in-process with a given configuration file, capturing what it prints. Every
/// run of every test also checks that the configuration's PG_PASSWORD appears nowhere in that output.
/// </summary>
internal static partial class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static async Task<Result> RunAsync(string? configPath, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await DataSyncCli.RunAsync(args, stdout, stderr, name => name == "DATA_SYNC_CONFIG" ? configPath : null);
        var result = new Result(code, stdout.ToString(), stderr.ToString());
        AssertNoPassword(configPath, result.Out + result.Error, $"the output of 'datasync {string.Join(' ', args)}'");
        return result;
    }

    /// <summary>Fails when <paramref name="text"/> holds the PG_PASSWORD of the configuration at <paramref name="configPath"/>.</summary>
    public static void AssertNoPassword(string? configPath, string text, string what)
    {
        if (configPath is null || !File.Exists(configPath)) return;
        var match = PasswordLine().Match(File.ReadAllText(configPath));
        if (!match.Success || match.Groups[1].Value.Length < 4) return;
        Assert.False(text.Contains(match.Groups[1].Value, StringComparison.Ordinal), $"PG_PASSWORD appears in {what}");
    }

    [GeneratedRegex("""^\s*PG_PASSWORD\s*=\s*"([^"\r\n]*)"?""", RegexOptions.Multiline)]
    private static partial Regex PasswordLine();
}
