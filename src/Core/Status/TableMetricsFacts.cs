using DataSync.Wal;

namespace DataSync.Core.Status;

/// <summary>One listed table as a scrape sees it. <paramref name="LagSeconds"/> and <paramref name="LagBytes"/> are null while unknown.</summary>
public sealed record TableMetricsFacts(
    string Table, string State, Lsn? Checkpoint, double? LagSeconds, double? LagBytes, DateTimeOffset? LastError, long RowsSynced);
