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
    /// The binaries the daemon runs its temporary restores with: <paramref name="configured"/> (PG_BIN_DIR) when set,
    /// else the first PostgreSQL on PATH, checked to be PostgreSQL 18, whose WAL format the decoder reads. (The demo
    /// and the tests also take the repository's pinned build; that lookup lives in DataSync.Embedded, which an
    /// installed daemon does not carry.)
    /// </summary>
    public static async Task<PostgresBinaries> ResolveAsync(string? configured, CancellationToken cancellationToken = default)
    {
        var binaries = !string.IsNullOrEmpty(configured)
            ? At(configured)
            : FromPath() ?? throw new FileNotFoundException(
                "no PostgreSQL 18.1 server binaries found: set PG_BIN_DIR to their folder or put them on PATH");
        return await binaries.CheckedVersionAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>These binaries, once <c>postgres --version</c> says they are PostgreSQL 18.</summary>
    public async Task<PostgresBinaries> CheckedVersionAsync(CancellationToken cancellationToken = default)
    {
        var version = await ProcessRunner.RunCheckedAsync(Postgres, ["--version"], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!version.StandardOutput.Contains(" 18.", StringComparison.Ordinal))
            throw new InvalidOperationException($"{Postgres} is '{version.StandardOutput.Trim()}'; PostgreSQL 18 is required");
        return this;
    }
}
