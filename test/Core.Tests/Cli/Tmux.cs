using System.Diagnostics;

namespace DataSync.Core.Tests.Cli;

/// <summary>A tmux server of the test's own (its own socket, removed with it), so no other tmux session is touched.</summary>
internal sealed class Tmux(string socketName)
{
    private readonly string _socket = Path.Combine(Path.GetTempPath(), socketName);

    /// <summary><paramref name="text"/> as one word for the shell tmux runs a command with.</summary>
    public static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public async Task<string> RunAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-S");
        info.ArgumentList.Add(_socket);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("tmux is not installed (apt-get install tmux); this test runs the CLI in a terminal session", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"tmux {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}");
            return await output;
        }
    }

    public async Task KillAsync()
    {
        try
        {
            await RunAsync("kill-server");
        }
        catch (Exception e) when (e is InvalidOperationException or Xunit.Sdk.XunitException)
        {
            // Already gone.
        }

        File.Delete(_socket);
    }
}
