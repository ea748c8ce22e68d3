using DataSync.Wal;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// A running bootstrap as it stands at one moment (<see cref="BootstrapProgress.Snapshot"/>). Durations are measured by
/// the process that runs the bootstrap, so a reader elsewhere derives rates without comparing clocks.
/// </summary>
/// <param name="Tables">The tables this attempt copies (canonical <c>schema.table</c>).</param>
/// <param name="Note">What the phase waits for, when it waits (open transactions), else null.</param>
/// <param name="BaseBackup">The base backup's name, once chosen.</param>
/// <param name="RestoredBytes">Bytes of the base backup copied into the restore so far (compressed bytes for a compressed tar).</param>
/// <param name="RestoreTotalBytes">All the bytes there are to copy; 0 until known.</param>
/// <param name="ReplayFrom">Where the current replay started (the backup's start, or the last pause point).</param>
/// <param name="Replayed">How far the restore has replayed (invalid until it accepts connections).</param>
/// <param name="ReplayTarget">Where replay pauses for the copy.</param>
public sealed record BootstrapProgressSnapshot(
    IReadOnlyList<string> Tables,
    BootstrapPhase Phase,
    string? Note,
    string? BaseBackup,
    TimeSpan Elapsed,
    TimeSpan PhaseElapsed,
    long RestoredBytes,
    long RestoreTotalBytes,
    Lsn ReplayFrom,
    Lsn Replayed,
    Lsn ReplayTarget,
    IReadOnlyList<TableCopySnapshot> Copies);

/// <summary>
/// One table's copy: rows streamed so far, the rows expected (estimated from the restore's statistics; null when it has
/// none), how long it has run, and whether it has committed.
/// </summary>
public sealed record TableCopySnapshot(string Table, long RowsCopied, long? RowsEstimated, TimeSpan Elapsed, bool Done);
