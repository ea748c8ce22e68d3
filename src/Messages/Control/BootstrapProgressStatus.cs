namespace DataSync.Messages.Control;

/// <summary>
/// A running bootstrap's progress as the daemon reports it (in <see cref="StatusReply"/> and
/// <see cref="BootstrapProgressReply"/>): the tables it copies, its phase (<c>preparing</c>, <c>restoring</c>,
/// <c>replaying</c>, <c>waiting</c>, <c>copying</c>, <c>finishing</c>) and what that phase waits for, the base backup, how long it and its
/// phase have run (measured by the daemon, so rates need no shared clock), the backup's bytes restored of all there are,
/// where the restore's replay started, stands and stops (LSNs as <c>X/Y</c>, null until known), and each table's copy.
/// </summary>
public sealed record BootstrapProgressStatus(
    IReadOnlyList<string> Tables,
    string Phase,
    string? Note,
    string? BaseBackup,
    double ElapsedSeconds,
    double PhaseElapsedSeconds,
    long RestoredBytes,
    long RestoreTotalBytes,
    string? ReplayFromLsn,
    string? ReplayedLsn,
    string? ReplayTargetLsn,
    IReadOnlyList<TableCopyStatus> Copies);

/// <summary>
/// One table's copy in a running bootstrap: rows streamed so far, the rows the restore's statistics expect (null when it
/// has none), seconds it has run, and whether it has committed.
/// </summary>
public sealed record TableCopyStatus(string Table, long RowsCopied, long? RowsEstimated, double ElapsedSeconds, bool Done);
