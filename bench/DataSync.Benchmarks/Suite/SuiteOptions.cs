using System.Globalization;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// What the suite runs and at which sizes. Defaults are the issue's sizes; each can be lowered for a
/// quick run (the table says what was run).
/// </summary>
internal sealed record SuiteOptions
{
    /// <summary>Rows of the decode workload and of each bulk apply workload (insert, update, delete).</summary>
    public int Rows { get; init; } = 1_000_000;

    /// <summary>pgbench-style small transactions.</summary>
    public int SmallTransactions { get; init; } = 100_000;

    /// <summary>Connections the small transactions come from.</summary>
    public int Clients { get; init; } = 4;

    /// <summary>Size of the bootstrapped table.</summary>
    public int BootstrapMegabytes { get; init; } = 1024;

    /// <summary>WAL size of the one big transaction the memory section syncs.</summary>
    public int BigTransactionMegabytes { get; init; } = 2048;

    /// <summary>How many 16 MB segments the landing-to-applied measure times.</summary>
    public int SegmentRepeats { get; init; } = 5;

    /// <summary>Repeats of each in-process or server-side decode timing, and daemon launches of the start-up section (the median is reported).</summary>
    public int Repeats { get; init; } = 5;

    public IReadOnlySet<string> Sections { get; init; } = new HashSet<string>(AllSections);

    public string Output { get; init; } = "docs/benchmarks.md";

    /// <summary>When set, every daemon started gets dotnet-trace and dotnet-counters attached, writing here (slows it down: not for the table).</summary>
    public string? ProfileDirectory { get; init; }

    /// <summary>MSBuild properties given to <c>dotnet publish</c> of the daemon (NAME=VALUE), e.g. PublishReadyToRun=false to compare.</summary>
    public IReadOnlyList<string> PublishProperties { get; init; } = [];

    public static readonly string[] AllSections = ["decode", "apply", "bootstrap", "memory", "startup"];

    public const string Usage = """
        suite [--rows N] [--small-tx N] [--clients N] [--bootstrap-mb N] [--big-tx-mb N] [--segments N] [--repeats N]
              [--only decode,apply,bootstrap,memory,startup] [--out FILE] [--profile DIR] [--publish-property NAME=VALUE]...
        """;

    public static SuiteOptions Parse(IReadOnlyList<string> args)
    {
        var options = new SuiteOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Count) throw new ArgumentException($"{name} needs a value\n{Usage}");
            var value = args[++i];
            int Number() => int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture) is var n && n > 0
                ? n : throw new ArgumentException($"{name} must be positive");
            options = name switch
            {
                "--rows" => options with { Rows = Number() },
                "--small-tx" => options with { SmallTransactions = Number() },
                "--clients" => options with { Clients = Number() },
                "--bootstrap-mb" => options with { BootstrapMegabytes = Number() },
                "--big-tx-mb" => options with { BigTransactionMegabytes = Number() },
                "--segments" => options with { SegmentRepeats = Number() },
                "--repeats" => options with { Repeats = Number() },
                "--only" => options with { Sections = ParseSections(value) },
                "--out" => options with { Output = value },
                "--profile" => options with { ProfileDirectory = Path.GetFullPath(value) },
                "--publish-property" => options with { PublishProperties = [.. options.PublishProperties, value] },
                _ => throw new ArgumentException($"unknown option {name}\n{Usage}"),
            };
        }

        return options;
    }

    private static HashSet<string> ParseSections(string value)
    {
        var sections = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        var unknown = sections.Except(AllSections).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unknown section(s) {string.Join(", ", unknown)}; known: {string.Join(", ", AllSections)}");
        return sections;
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"--rows {Rows} --small-tx {SmallTransactions} --clients {Clients} --bootstrap-mb {BootstrapMegabytes} --big-tx-mb {BigTransactionMegabytes} --segments {SegmentRepeats} --repeats {Repeats} --only {string.Join(',', AllSections.Where(Sections.Contains))}{(ProfileDirectory is null ? "" : " --profile " + ProfileDirectory)}{string.Concat(PublishProperties.Select(p => " --publish-property " + p))}");
}
