using DataSync.Wal;

namespace DataSync.Core.Apply;

/// <summary>
/// A change does not fit the local table (ON_CONFLICT = "fail"): an update or delete of a row that is
/// not there, or an insert of a key that is. Usually a manual change to the local copy; the table is
/// paused and <c>datasync resync</c> repairs it.
/// </summary>
/// <remarks>
/// <see cref="Lsn"/> is <see cref="Lsn.Invalid"/> when a statement's row count disagreed yet no single change of the round
/// could be named (something local hides or skips rows from the apply: a trigger that fires under the replica role, a
/// rule, a row-level security policy); the message then says that instead of naming LSN 0/0.
/// </remarks>
public sealed class ApplyConflictException(string table, Lsn lsn, string detail) : Exception(Describe(table, lsn, detail))
{
    public string Table { get; } = table;
    public Lsn Lsn { get; } = lsn;
    public string Detail { get; } = detail;

    /// <summary>What can hide or skip rows from the apply when no single change explains a conflict (named in the message and in the pause).</summary>
    public const string HidingCauses = "a trigger enabled ALWAYS or REPLICA, a rule, a row-level security policy";

    private static string Describe(string table, Lsn lsn, string detail) => lsn == Lsn.Invalid
        ? $"{table}: the round being applied does not fit the local table ({detail}), though each of its changes fits on its own: " +
          $"something local hides or skips rows from the apply ({HidingCauses})"
        : $"{table}: the change at {lsn} does not fit the local table: {detail}";
}
