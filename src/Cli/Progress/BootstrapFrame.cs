using DataSync.Messages.Control;
using DataSync.Wal;

namespace DataSync.Cli.Progress;

/// <summary>
/// A daemon's bootstrap progress as a <see cref="ProgressFrame"/>: the base backup's bytes while it is restored, the WAL
/// replayed toward the restore's target, then the rows copied of the tables followed (estimated total from the restore's
/// statistics). Rates are the phase's amount over the phase's time, both as the daemon measured them.
/// </summary>
public static class BootstrapFrame
{
    /// <param name="subject">What the frame is about, e.g. <c>resync public.orders</c>.</param>
    /// <param name="running">The daemon's report.</param>
    /// <param name="followed">The tables whose rows count (the others an attempt copies alongside are left out).</param>
    public static ProgressFrame From(string subject, BootstrapProgressStatus running, IReadOnlyCollection<string> followed)
    {
        var phaseTime = TimeSpan.FromSeconds(running.PhaseElapsedSeconds);
        switch (running.Phase)
        {
            case "restoring":
                return ProgressFrame.Measured(subject, $"restoring base backup {running.BaseBackup}", running.RestoredBytes,
                    running.RestoreTotalBytes > 0 ? running.RestoreTotalBytes : null, ProgressUnit.Bytes, phaseTime);
            case "replaying" or "waiting":
            {
                var from = Parse(running.ReplayFromLsn);
                var replayed = Parse(running.ReplayedLsn);
                var target = Parse(running.ReplayTargetLsn);
                var done = replayed > from ? (long)(replayed.Value - from.Value) : 0;
                long? total = target > from ? (long)(target.Value - from.Value) : null;
                return running.Phase == "waiting"
                    ? ProgressFrame.Measured(subject, "replaying WAL until open transactions end", done, null, ProgressUnit.WalBytes, phaseTime, running.Note)
                    : ProgressFrame.Measured(subject, "replaying WAL", Math.Min(done, total ?? done), total, ProgressUnit.WalBytes, phaseTime);
            }

            case "copying":
            {
                var copies = running.Copies.Where(c => followed.Contains(c.Table)).ToList();
                // The copies start a moment after the phase (each table's connection, truncate and estimate first): nothing to count yet.
                if (copies.Count == 0) return new ProgressFrame(subject, "copying rows", 0, null, ProgressUnit.None, null, null);
                var rows = copies.Sum(c => c.RowsCopied);
                // Until every followed table's copy has begun, or when one has no statistics, the total is unknown.
                long? total = copies.Count == followed.Count(running.Tables.Contains) && copies.All(c => c.RowsEstimated is not null || c.Done)
                    ? copies.Sum(c => c.Done ? c.RowsCopied : Math.Max(c.RowsCopied, c.RowsEstimated!.Value))
                    : null;
                return ProgressFrame.Measured(subject, "copying rows", rows, total, ProgressUnit.Rows, phaseTime);
            }

            case "finishing":
                return new ProgressFrame(subject, "finishing (removing the temporary restore)", 0, null, ProgressUnit.None, null, null);
            default:
                return new ProgressFrame(subject, "preparing (finding the base backup, fetching its WAL)", 0, null, ProgressUnit.None, null, null);
        }
    }

    private static Lsn Parse(string? lsn) => lsn is not null && Lsn.TryParse(lsn, out var parsed) ? parsed : Lsn.Invalid;
}
