namespace DataSync.Core.Embedded;

/// <summary>
/// A folder of PostgreSQL 18.1 server binaries (<c>initdb</c>, <c>pg_ctl</c>, <c>postgres</c>).
/// </summary>
public sealed class PostgresBinaries
{
    /// <summary>The npm package the project takes its binaries from, when none are installed.</summary>
    public const string PackageVersion = "18.1.0-beta.16";

    private PostgresBinaries(string binDirectory) => BinDirectory = binDirectory;

    public string BinDirectory { get; }

    public string InitDb => Path.Combine(BinDirectory, "initdb");
    public string PgCtl => Path.Combine(BinDirectory, "pg_ctl");
    public string Postgres => Path.Combine(BinDirectory, "postgres");

    /// <summary>Uses the given folder, which must hold the server binaries.</summary>
    public static PostgresBinaries At(string binDirectory)
    {
        var binaries = new PostgresBinaries(Path.GetFullPath(binDirectory));
        foreach (var tool in new[] { binaries.InitDb, binaries.PgCtl, binaries.Postgres })
        {
            if (!File.Exists(tool))
                throw new FileNotFoundException($"PostgreSQL binary '{tool}' not found (PG_BIN_DIR = {binDirectory})", tool);
        }

        return binaries;
    }

    /// <summary>The first folder on PATH that holds <c>pg_ctl</c> and <c>postgres</c>, if any.</summary>
    public static PostgresBinaries? FromPath()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(folder, "pg_ctl")) && File.Exists(Path.Combine(folder, "postgres")) && File.Exists(Path.Combine(folder, "initdb")))
                return new PostgresBinaries(folder);
        }

        return null;
    }

    /// <summary>
    /// Finds the repository's <c>scripts/fetch-postgres.sh</c> above <paramref name="startDirectory"/>
    /// and runs it: it fetches the binaries into the repository's ignored cache on first use and
    /// answers at once after that.
    /// </summary>
    public static async Task<PostgresBinaries> FetchWithRepositoryScriptAsync(string startDirectory, CancellationToken cancellationToken = default)
    {
        var script = FindRepositoryFile(startDirectory, Path.Combine("scripts", "fetch-postgres.sh"))
            ?? throw new FileNotFoundException(
                $"scripts/fetch-postgres.sh not found above '{startDirectory}'; set PG_BIN_DIR to a PostgreSQL 18.1 bin folder");
        var result = await ProcessRunner.RunAsync("bash", [script], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"fetching PostgreSQL 18.1 failed: {result.StandardError.Trim()}");
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return At(lines[^1]);
    }

    /// <summary>
    /// Returns binaries the account can run: these, or, when a parent folder shuts the account out
    /// (a checkout under /root, say), a world-readable copy of the whole installation under /tmp.
    /// </summary>
    public async Task<PostgresBinaries> ReachableByAsync(ServerAccount account, CancellationToken cancellationToken = default)
    {
        if (await account.CanExecuteAsync(Postgres, cancellationToken).ConfigureAwait(false)) return this;
        var installation = Directory.GetParent(BinDirectory)!.FullName;
        var copy = Path.Combine(Path.GetTempPath(), $"datasync-postgres-{PackageVersion}-{Math.Abs(installation.GetHashCode(StringComparison.Ordinal)):x}");
        if (!File.Exists(Path.Combine(copy, ".complete")))
        {
            var staging = copy + ".tmp-" + Environment.ProcessId;
            await ProcessRunner.RunCheckedAsync("cp", ["-a", installation, staging], cancellationToken: cancellationToken).ConfigureAwait(false);
            await ProcessRunner.RunCheckedAsync("chmod", ["-R", "a+rX", staging], cancellationToken: cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(Path.Combine(staging, ".complete"), "", cancellationToken).ConfigureAwait(false);
            try
            {
                Directory.Move(staging, copy);
            }
            catch (IOException)
            {
                // Another process made the copy first; use theirs.
                Directory.Delete(staging, recursive: true);
            }
        }

        return At(Path.Combine(copy, Path.GetFileName(BinDirectory)));
    }

    /// <summary>
    /// The binaries the demo and the tests use: <paramref name="configured"/> (PG_BIN_DIR) when set, else
    /// the repository's pinned 18.1 (fetched on first use), else the first PostgreSQL on PATH.
    /// Checked to be PostgreSQL 18, whose WAL format the decoder reads.
    /// </summary>
    public static async Task<PostgresBinaries> ResolveAsync(string? configured, CancellationToken cancellationToken = default)
    {
        PostgresBinaries binaries;
        if (!string.IsNullOrEmpty(configured))
            binaries = At(configured);
        else if (FindRepositoryFile(AppContext.BaseDirectory, Path.Combine("scripts", "fetch-postgres.sh")) is not null)
            binaries = await FetchWithRepositoryScriptAsync(AppContext.BaseDirectory, cancellationToken).ConfigureAwait(false);
        else if (FindRepositoryFile(Directory.GetCurrentDirectory(), Path.Combine("scripts", "fetch-postgres.sh")) is not null)
            binaries = await FetchWithRepositoryScriptAsync(Directory.GetCurrentDirectory(), cancellationToken).ConfigureAwait(false);
        else
            binaries = FromPath() ?? throw new FileNotFoundException(
                "no PostgreSQL 18.1 server binaries found: set PG_BIN_DIR, put them on PATH, or run from a checkout (scripts/fetch-postgres.sh fetches them)");

        var version = await ProcessRunner.RunCheckedAsync(binaries.Postgres, ["--version"], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!version.StandardOutput.Contains(" 18.", StringComparison.Ordinal))
            throw new InvalidOperationException($"{binaries.Postgres} is '{version.StandardOutput.Trim()}'; PostgreSQL 18 is required");
        return binaries;
    }

    internal static string? FindRepositoryFile(string startDirectory, string relativePath)
    {
        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relativePath);
            if (File.Exists(candidate)) return candidate;
        }

        return null;
    }
}
