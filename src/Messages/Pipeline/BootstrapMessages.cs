namespace DataSync.Messages.Pipeline;

/// <summary>Asks the bootstrapper to copy these tables (canonical names) from the newest base backup.</summary>
public sealed record BootstrapTables(IReadOnlyList<string> Tables);

/// <summary>How a bootstrap ended: tables copied, still waiting for WAL after the backup, or failed with a message.</summary>
public sealed record BootstrapFinished(IReadOnlyList<string> Tables, bool Copied, string? Failure);
