using System.Globalization;
using DataSync.Core.Verify;

namespace DataSync.Cli.Verify;

/// <summary>
/// A verify's progress as plain lines on standard error (standard output keeps the verdicts): one when a table's phase
/// changes, then one every <see cref="Every"/> while it lasts, with the rows compared and their rate. A live progress bar
/// can replace it behind <see cref="IVerifyProgress"/>.
/// </summary>
internal sealed class PlainVerifyProgress(TextWriter writer, TimeProvider? clock = null) : IVerifyProgress
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private (string Table, VerifyPhase Phase)? _shown;
    private DateTimeOffset _shownAt;

    public void Report(VerifyProgress progress)
    {
        var now = _clock.GetUtcNow();
        if (_shown == (progress.Table, progress.Phase) && now - _shownAt < Every) return;
        _shown = (progress.Table, progress.Phase);
        _shownAt = now;
        writer.WriteLine($"datasync: {Line(progress)}");
    }

    /// <summary>One progress line: <c>verify public.t: comparing: 12000 rows compared (4000 rows/s), 3.0 s</c>.</summary>
    public static string Line(VerifyProgress progress)
    {
        var phase = progress.Phase.ToString().ToLowerInvariant();
        var detail = progress.Detail is null ? "" : $": {progress.Detail}";
        var seconds = progress.Elapsed.TotalSeconds;
        var rows = progress.Phase is VerifyPhase.Comparing or VerifyPhase.Repairing or VerifyPhase.Done && progress.RowsCompared > 0
            ? string.Create(CultureInfo.InvariantCulture, $", {progress.RowsCompared} rows compared ({progress.RowsCompared / Math.Max(seconds, 0.001):F0} rows/s)")
            : "";
        return string.Create(CultureInfo.InvariantCulture, $"verify {progress.Table}: {phase}{detail}{rows}, {seconds:F1} s");
    }
}
