using DataSync.Wal;

namespace DataSync.Core.Apply;

/// <summary>
/// A change does not fit the local table (ON_CONFLICT = "fail"): an update or delete of a row that is
/// not there, or an insert of a key that is. Usually a manual change to the local copy; the table is
/// paused and <c>datasync resync</c> repairs it.
/// </summary>
public sealed class ApplyConflictException(string table, Lsn lsn, string detail)
    : Exception($"{table}: the change at {lsn} does not fit the local table: {detail}")
{
    public string Table { get; } = table;
    public Lsn Lsn { get; } = lsn;
    public string Detail { get; } = detail;
}
