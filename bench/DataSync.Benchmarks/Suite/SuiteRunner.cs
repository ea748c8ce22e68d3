using System.Diagnostics;
using System.Text;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// The whole suite: each section in turn (a failed section is noted and the others still run), then
/// one Markdown table with every figure next to its same-run baseline, printed and written to a file.
/// </summary>
internal static class SuiteRunner
{
    public static async Task<int> RunAsync(SuiteOptions options)
    {
        var root = RepositoryRoot();
        var output = Path.IsPathRooted(options.Output) ? options.Output : Path.Combine(root, options.Output);
        var table = new ResultTable();
        var started = DateTime.UtcNow;
        var loads = new List<string> { $"start {MachineInfo.LoadAverage()}" };
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"DataSync benchmark suite: {options.Describe()}");
        Console.WriteLine($"machine: {MachineInfo.Describe()}; load average {MachineInfo.LoadAverage()}");

        DatasyncCli? cli = null;
        var failed = 0;
        foreach (var section in SuiteOptions.AllSections.Where(options.Sections.Contains))
        {
            var sectionClock = Stopwatch.StartNew();
            try
            {
                if (section != "decode")
                    cli ??= await DatasyncCli.PublishAsync(root, Path.Combine(Path.GetTempPath(), $"datasync-bench-cli-{Environment.ProcessId}"), options.PublishProperties);
                Console.WriteLine($"== section {section}");
                await (section switch
                {
                    "decode" => DecodeSection.RunAsync(options, table),
                    "apply" => ApplySection.RunAsync(options, cli!, table),
                    "bootstrap" => BootstrapSection.RunAsync(options, cli!, table),
                    "startup" => StartupSection.RunAsync(options, cli!, table),
                    "memory" => MemorySection.RunAsync(options, cli!, table),
                    _ => SoakSection.RunAsync(options, cli!, table),
                });
            }
            catch (Exception e)
            {
                failed++;
                Console.Error.WriteLine(e);
                table.Note($"Section {section} FAILED: {e.GetBaseException().Message.Split('\n')[0]}");
            }

            loads.Add($"after {section} ({sectionClock.Elapsed.TotalMinutes:F1} min) {MachineInfo.LoadAverage()}");
        }

        var markdown = Render(options, table, started, clock.Elapsed, loads);
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        // Findings written by hand below the marker survive a new run (they may then describe an older table).
        if (File.Exists(output) && (await File.ReadAllTextAsync(output)) is var previous && previous.IndexOf(HandWrittenMarker, StringComparison.Ordinal) is var at and >= 0)
            markdown += Environment.NewLine + previous[at..];
        await File.WriteAllTextAsync(output, markdown);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"written to {output}");
        if (cli is not null) Directory.Delete(Path.GetDirectoryName(cli.Executable)!, recursive: true);
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Everything after this line in the output file is kept when the suite rewrites the table.</summary>
    public const string HandWrittenMarker = "<!-- written by hand below this line; kept when the suite rewrites the table above -->";

    private static string Render(SuiteOptions options, ResultTable table, DateTime started, TimeSpan took, IEnumerable<string> loads)
    {
        var text = new StringBuilder();
        text.AppendLine("# DataSync benchmarks, side by side");
        text.AppendLine();
        text.AppendLine("Every figure is printed next to its baseline measured in the same run on the same machine. The ratio is");
        text.AppendLine("oriented so that above 1 means DataSync is better (faster, or less time). Written by");
        text.AppendLine("`scripts/bench.sh` (= `dotnet run -c Release --project bench/DataSync.Benchmarks -- suite`); see");
        text.AppendLine("bench/DataSync.Benchmarks/README.md for what each line measures.");
        text.AppendLine();
        text.AppendLine(Format.Invariant($"- Date: {started:yyyy-MM-dd HH:mm} UTC, {took.TotalMinutes:F0} min"));
        text.AppendLine($"- Machine: {MachineInfo.Describe()}");
        text.AppendLine($"- Load average (1/5/15 min): {string.Join("; ", loads)} (the machine is shared with other work)");
        text.AppendLine($"- Run: `suite {options.Describe()}`");
        text.AppendLine();
        text.Append(table.ToMarkdown());
        return text.ToString();
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "DataSync.Actors.sln"))) return folder.FullName;
        throw new InvalidOperationException($"cannot find the repository (DataSync.Actors.sln) above {AppContext.BaseDirectory}");
    }
}
