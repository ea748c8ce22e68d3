namespace DataSync.Actors.Pipeline;

/// <summary>Asks the bootstrapper to copy these tables (canonical names) from the newest base backup.</summary>
internal sealed record BootstrapTables(IReadOnlyList<string> Tables);

/// <summary>
/// How a bootstrap ended: tables copied, or not (waiting for WAL, failed, or not tried because the pause after
/// the last attempt has not passed). <paramref name="Problem"/> says why; <paramref name="NewProblem"/> is true the
/// first time that cause is met; no attempt is to be made before <paramref name="RetryAt"/>.
/// </summary>
internal sealed record BootstrapFinished(IReadOnlyList<string> Tables, bool Copied, string? Problem, bool Failed = false, bool NewProblem = false, DateTimeOffset? RetryAt = null)
{
    /// <summary>Tables refused on their own (production lacks them): marked failed and logged by the bootstrapper, not copied.</summary>
    public IReadOnlyList<string> Refused { get; init; } = [];
}
