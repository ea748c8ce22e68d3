namespace DataSync.Core.Sync;

/// <summary>What one cycle did: segments fetched, tables bootstrapped, transactions and rows applied, and what stopped it.</summary>
public sealed record SyncCycleResult(
    int SegmentsFetched,
    IReadOnlyList<string> TablesBootstrapped,
    long TransactionsApplied,
    long RowsApplied,
    string? MissingSegment,
    IReadOnlyList<string> TablesPaused)
{
    /// <summary>How the bootstrap of tables that needed one went (null when none needed it).</summary>
    public BootstrapOutcome? Bootstrap { get; init; }
}
