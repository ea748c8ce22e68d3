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

    /// <summary>Base size of the catch-up scale rows' mixed backlog (its changed rows); they run it at 1, 4 and 16 times this.</summary>
    public int ScaleRows { get; init; } = 400_000;

    /// <summary>How long the soak section writes.</summary>
    public int SoakMinutes { get; init; } = 60;

    /// <summary>Length of the soak's two RSS windows (first after the warm-up, last); the warm-up is as long, at most 5 minutes.</summary>
    public int SoakWindowMinutes { get; init; } = 10;

    /// <summary>Production's archive_timeout during the soak: a segment lands at least this often.</summary>
    public int SoakSegmentSeconds { get; init; } = 10;

    /// <summary>The soak's write rate in transactions a second; when unset, half of the rate DataSync catches up at, measured first.</summary>
    public int? SoakTransactionsPerSecond { get; init; }

    /// <summary>pgbench-style transactions of the backlog whose catch-up measures the rate DataSync sustains.</summary>
    public int SoakProbeTransactions { get; init; } = 20_000;

    public IReadOnlySet<string> Sections { get; init; } = new HashSet<string>(DefaultSections);

    /// <summary>
    /// Which catch-up rows of the apply section run: all of them when null. While iterating on one row (the small
    /// transactions' catch-up takes a few minutes alone, the whole section half an hour) the others can be left out;
    /// the live measures and the segment landing are left out too then.
    /// </summary>
    public IReadOnlySet<string>? CatchUps { get; init; }

    public static readonly string[] AllCatchUps = ["insert", "update", "delete", "small", "scale"];

    /// <summary>Whether the apply section runs catch-up row <paramref name="name"/> (one of <see cref="AllCatchUps"/>).</summary>
    public bool RunsCatchUp(string name) => CatchUps is null || CatchUps.Contains(name);

    public string Output { get; init; } = "docs/benchmarks.md";

    /// <summary>When set, every daemon started gets dotnet-trace and dotnet-counters attached, writing here (slows it down: not for the table).</summary>
    public string? ProfileDirectory { get; init; }

    /// <summary>MSBuild properties given to <c>dotnet publish</c> of the daemon (NAME=VALUE), e.g. PublishReadyToRun=false to compare.</summary>
    public IReadOnlyList<string> PublishProperties { get; init; } = [];

    public static readonly string[] AllSections = ["decode", "apply", "bootstrap", "memory", "startup", "soak"];

    /// <summary>Without --only: every section but the soak, which writes for an hour on its own.</summary>
    public static readonly string[] DefaultSections = ["decode", "apply", "bootstrap", "memory", "startup"];

    /// <summary>The soak's warm-up: one RSS window, at most 5 minutes.</summary>
    public int SoakWarmupMinutes => Math.Min(SoakWindowMinutes, 5);

    public const string Usage = """
        suite [--rows N] [--small-tx N] [--clients N] [--bootstrap-mb N] [--big-tx-mb N] [--segments N] [--repeats N] [--scale-rows N]
              [--soak-minutes N] [--soak-window N] [--soak-segment-s N] [--soak-tps N] [--soak-probe-tx N]
              [--only decode,apply,bootstrap,memory,startup,soak] [--catch-ups insert,update,delete,small,scale] [--out FILE] [--profile DIR] [--publish-property NAME=VALUE]...
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
                "--scale-rows" => options with { ScaleRows = Number() },
                "--soak-minutes" => options with { SoakMinutes = Number() },
                "--soak-window" => options with { SoakWindowMinutes = Number() },
                "--soak-segment-s" => options with { SoakSegmentSeconds = Number() },
                "--soak-tps" => options with { SoakTransactionsPerSecond = Number() },
                "--soak-probe-tx" => options with { SoakProbeTransactions = Number() },
                "--only" => options with { Sections = ParseSections(value) },
                "--catch-ups" => options with { CatchUps = ParseCatchUps(value) },
                "--out" => options with { Output = value },
                "--profile" => options with { ProfileDirectory = Path.GetFullPath(value) },
                "--publish-property" => options with { PublishProperties = [.. options.PublishProperties, value] },
                _ => throw new ArgumentException($"unknown option {name}\n{Usage}"),
            };
        }

        if (options.Sections.Contains("soak") && options.SoakMinutes < options.SoakWarmupMinutes + 2 * options.SoakWindowMinutes)
            throw new ArgumentException($"--soak-minutes {options.SoakMinutes} leaves no room for a {options.SoakWarmupMinutes}-minute warm-up and two {options.SoakWindowMinutes}-minute windows: lower --soak-window");
        return options;
    }

    private static HashSet<string> ParseSections(string value)
    {
        var sections = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        var unknown = sections.Except(AllSections).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unknown section(s) {string.Join(", ", unknown)}; known: {string.Join(", ", AllSections)}");
        return sections;
    }

    private static HashSet<string> ParseCatchUps(string value)
    {
        var rows = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        var unknown = rows.Except(AllCatchUps).ToList();
        if (unknown.Count > 0) throw new ArgumentException($"unknown catch-up row(s) {string.Join(", ", unknown)}; known: {string.Join(", ", AllCatchUps)}");
        return rows;
    }

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"--rows {Rows} --small-tx {SmallTransactions} --clients {Clients} --bootstrap-mb {BootstrapMegabytes} --big-tx-mb {BigTransactionMegabytes} --segments {SegmentRepeats} --repeats {Repeats} --scale-rows {ScaleRows}{(Sections.Contains("soak") ? SoakDescription() : "")} --only {string.Join(',', AllSections.Where(Sections.Contains))}{(CatchUps is null ? "" : " --catch-ups " + string.Join(',', AllCatchUps.Where(CatchUps.Contains)))}{(ProfileDirectory is null ? "" : " --profile " + ProfileDirectory)}{string.Concat(PublishProperties.Select(p => " --publish-property " + p))}");

    private string SoakDescription() => string.Create(CultureInfo.InvariantCulture,
        $" --soak-minutes {SoakMinutes} --soak-window {SoakWindowMinutes} --soak-segment-s {SoakSegmentSeconds}{(SoakTransactionsPerSecond is { } tps ? $" --soak-tps {tps}" : $" --soak-probe-tx {SoakProbeTransactions}")}");
}
