using System.Diagnostics;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// dotnet-trace (sampled thread stacks + GC events) and dotnet-counters (runtime counters each second)
/// attached to a daemon, for a profiling run (<c>--profile DIR</c>); both stop when the daemon exits.
/// The tools are .NET global tools: `dotnet tool install --tool-path DIR dotnet-trace dotnet-counters`,
/// found on PATH or in DATASYNC_BENCH_TOOLS. DATASYNC_BENCH_TRACE_PROFILE replaces the trace's profiles, e.g.
/// <c>dotnet-sampled-thread-time,gc-verbose</c> to sample allocations by type as well.
/// </summary>
internal static class DaemonProfiler
{
    public static void Attach(string directory, int pid, string name)
    {
        Directory.CreateDirectory(directory);
        // The tools attach through the runtime's diagnostic socket, which appears a moment after the process starts.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!Directory.EnumerateFiles(Path.GetTempPath(), $"dotnet-diagnostic-{pid}-*-socket").Any())
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"no diagnostic socket for pid {pid}; cannot profile it");
            Thread.Sleep(20);
        }

        Start("dotnet-trace", ["collect", "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--profile", Environment.GetEnvironmentVariable("DATASYNC_BENCH_TRACE_PROFILE") ?? "dotnet-sampled-thread-time,gc-collect", "-o", Path.Combine(directory, name + ".nettrace")], Path.Combine(directory, name + ".trace.out"));
        Start("dotnet-counters", ["collect", "-p", pid.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--format", "csv", "--refresh-interval", "1", "-o", Path.Combine(directory, name + ".counters.csv")], Path.Combine(directory, name + ".counters.out"));
    }

    private static void Start(string tool, IEnumerable<string> args, string consoleLog)
    {
        var info = new ProcessStartInfo("sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec \"$0\" \"$@\" >\"$DATASYNC_PROFILER_LOG\" 2>&1 </dev/null");
        info.ArgumentList.Add(Find(tool));
        foreach (var arg in args) info.ArgumentList.Add(arg);
        info.Environment["DATASYNC_PROFILER_LOG"] = consoleLog;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {tool}");
        Console.WriteLine($"profiling with {tool} (pid {process.Id}), output beside {consoleLog}");
    }

    private static string Find(string tool)
    {
        var folders = new[] { Environment.GetEnvironmentVariable("DATASYNC_BENCH_TOOLS"), Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools") }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'));
        return folders.Where(f => !string.IsNullOrEmpty(f)).Select(f => Path.Combine(f!, tool)).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException($"{tool} not found on PATH, in ~/.dotnet/tools or in DATASYNC_BENCH_TOOLS; install it with `dotnet tool install -g {tool}`");
    }
}
