using DataSync.Wal;
using DataSync.Wal.Changes;

namespace DataSync.Core.Sync;

/// <summary>
/// What the stream records after a batch: where it resumes (and the segment file that holds that point, the first
/// one the archive must keep), the newest segment read, the newest commit routed to the tables with its time on
/// production, and the open transaction that holds the restart point back, with its segment file.
/// </summary>
public sealed record StreamProgress(Lsn RestartLsn, string RestartSegment, string LastSegment)
{
    public Lsn RoutedThrough { get; init; }
    public DateTimeOffset? RoutedTime { get; init; }
    public DateTimeOffset? WalTime { get; init; }
    public OldestOpenTransaction? OldestOpen { get; init; }
    public string? OldestSegment { get; init; }
}
