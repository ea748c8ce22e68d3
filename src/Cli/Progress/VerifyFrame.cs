using DataSync.Core.Verify;

namespace DataSync.Cli.Progress;

/// <summary>
/// A verify's progress as a <see cref="ProgressFrame"/>: while the base backup is restored and replayed to the table's
/// checkpoint, what the restore last said; while comparing, the rows compared against the restore's estimate of the
/// table's rows, with their rate over the comparison's time; while repairing, how many rows are copied.
/// </summary>
public static class VerifyFrame
{
    public static ProgressFrame From(VerifyProgress progress)
    {
        var subject = $"verify {progress.Table}";
        return progress.Phase switch
        {
            VerifyPhase.Restoring => Waiting(subject, "restoring and replaying to the checkpoint", progress.Detail),
            VerifyPhase.Comparing => ProgressFrame.Measured(subject, "comparing rows", progress.RowsCompared, progress.RowsEstimated, ProgressUnit.Rows, progress.PhaseElapsed),
            VerifyPhase.Repairing => Waiting(subject, "repairing", progress.Detail),
            VerifyPhase.Done => new ProgressFrame(subject, progress.Detail is null ? "done" : $"done: {progress.Detail}", progress.RowsCompared, null,
                progress.RowsCompared > 0 ? ProgressUnit.Rows : ProgressUnit.None, null, null),
            _ => Waiting(subject, "preparing", progress.Detail),
        };
    }

    /// <summary>A phase with nothing to count: its detail is the note.</summary>
    private static ProgressFrame Waiting(string subject, string phase, string? detail) => new(subject, phase, 0, null, ProgressUnit.None, null, null, detail);
}
