namespace DataSync.Messages.Control;

/// <summary>
/// Where the stream stands, for <c>status --json</c>: the restart point and its archive file, the newest archive file
/// read, the production transaction that holds the restart point (null when none), and the spool: all of it, and the
/// part already decoded but kept for the restart point (what <c>SPOOL_WARN_MB</c> bounds).
/// </summary>
public sealed record StreamStatus(
    string RestartLsn,
    string? RestartArchiveFile,
    string? LastArchiveFile,
    OpenTransactionStatus? OldestOpenTransaction,
    int SpoolSegments,
    long SpoolBytes,
    int DecodedSpoolSegments,
    long DecodedSpoolBytes);
