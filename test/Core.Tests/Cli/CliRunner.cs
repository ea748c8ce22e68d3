using DataSync.Cli;

namespace DataSync.Core.Tests.Cli;

/// <summary>Runs the datasync command line in-process with a given configuration file, capturing what it prints.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static async Task<Result> RunAsync(string? configPath, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await DataSyncCli.RunAsync(args, stdout, stderr, name => name == "DATA_SYNC_CONFIG" ? configPath : null);
        return new Result(code, stdout.ToString(), stderr.ToString());
    }
}
