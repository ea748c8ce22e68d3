using DataSync.Core.Embedded;

namespace DataSync.Embedded;

/// <summary>
/// The PostgreSQL 18.1 build a checkout of this repository pins: <c>scripts/fetch-postgres.sh</c> fetches it into
/// the checkout's ignored cache on first use and answers at once after that. Only the demo and the tests look for
/// it; an installed daemon takes PG_BIN_DIR or PATH (<see cref="PostgresBinaries.ResolveAsync"/>).
/// </summary>
public static class RepositoryPostgres
{
    private static readonly string Script = Path.Combine("scripts", "fetch-postgres.sh");

    /// <summary>Finds <c>scripts/fetch-postgres.sh</c> above <paramref name="startDirectory"/> and runs it.</summary>
    public static async Task<PostgresBinaries> FetchAsync(string startDirectory, CancellationToken cancellationToken = default)
    {
        var script = FindAbove(startDirectory, Script)
            ?? throw new FileNotFoundException(
                $"scripts/fetch-postgres.sh not found above '{startDirectory}'; set PG_BIN_DIR to a PostgreSQL 18.1 bin folder");
        var result = await ProcessRunner.RunAsync("bash", [script], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
            throw new InvalidOperationException($"fetching PostgreSQL 18.1 failed: {result.StandardError.Trim()}");
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return PostgresBinaries.At(lines[^1]);
    }

    /// <summary>
    /// The binaries the demo uses: <paramref name="configured"/> (PG_BIN_DIR) when set, else the repository's pinned
    /// 18.1 (fetched on first use) when run from a checkout, else the first PostgreSQL on PATH; checked to be 18.
    /// </summary>
    public static async Task<PostgresBinaries> ResolveAsync(string? configured, CancellationToken cancellationToken = default)
    {
        if (!string.IsNullOrEmpty(configured)) return await PostgresBinaries.ResolveAsync(configured, cancellationToken).ConfigureAwait(false);
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            if (FindAbove(start, Script) is not null)
                return await (await FetchAsync(start, cancellationToken).ConfigureAwait(false)).CheckedVersionAsync(cancellationToken).ConfigureAwait(false);
        }

        return await PostgresBinaries.ResolveAsync(null, cancellationToken).ConfigureAwait(false);
    }

    private static string? FindAbove(string startDirectory, string relativePath)
    {
        for (var dir = new DirectoryInfo(startDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relativePath);
            if (File.Exists(candidate)) return candidate;
        }

        return null;
    }
}
