using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// The spool holds more than SPOOL_WARN_MB: what the warning says, the segment file where the stream is held (the
/// occurrence: the same hold is warned of once), and how many FAILED rows this check wrote (0 when each table had one).
/// </summary>
public sealed record SpoolWarning(string Message, string HeldAt, int RowsWritten);
