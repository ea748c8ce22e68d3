namespace DataSync.Core.Bootstrap;

/// <summary>
/// What the paused temporary restore sees: the WAL position replay stopped at, and which transactions
/// its copy does not contain. A hot standby treats every xid at or above <see cref="Xmax"/> as still
/// running, and <see cref="InProgress"/> lists the running ones below it; whatever commits later must
/// come from decoding, which therefore has to have seen all their changes.
/// </summary>
public sealed record RestoreSnapshot(DataSync.Wal.Lsn ReplayLsn, ulong Xmin, ulong Xmax, IReadOnlyList<ulong> InProgress)
{
    /// <summary>True when the copy taken at this point does not contain <paramref name="xid"/>'s changes.</summary>
    public bool Excludes(ulong xid) => xid >= Xmax || InProgress.Contains(xid);
}
