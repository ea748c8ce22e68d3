using System.Globalization;
using DataSync.Core.Tables;
using DataSync.Wal;

namespace DataSync.Core.Verify;

/// <summary>
/// The outcome of verifying one table: compared at <see cref="Checkpoint"/> against base backup <see cref="BackupName"/>
/// replayed there, what the comparison found, whether the differences were repaired, and how long it took. Or, when the
/// table could not be verified, <see cref="Problem"/> says why.
/// </summary>
public sealed record TableVerdict(TableName Table, Lsn Checkpoint, string? BackupName, TableComparison? Comparison, bool Repaired, TimeSpan Elapsed, string? Problem = null)
{
    /// <summary>How many differing keys the verdict and the VERIFY log row list by name; the rest are counted.</summary>
    public const int ListedKeys = 100;

    /// <summary>Identical to production, or made identical by the repair.</summary>
    public bool Identical => Problem is null && Comparison is not null && (Comparison.Identical || Repaired);

    public static TableVerdict Failed(TableName table, string problem, TimeSpan elapsed) => new(table, Lsn.Invalid, null, null, false, elapsed, problem);

    /// <summary>The lines <c>datasync verify</c> prints for the table.</summary>
    public IReadOnlyList<string> Lines()
    {
        if (Problem is not null || Comparison is null) return [$"verify {Table}: not verified: {Problem}"];
        var c = Comparison;
        var seconds = Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture);
        var counted = c.ProductionRows == c.LocalRows
            ? $"{c.ProductionRows} rows"
            : $"{c.ProductionRows} rows in production, {c.LocalRows} locally";
        var lines = new List<string>
        {
            c.Identical
                ? $"verify {Table}: identical to production at LSN {Checkpoint} (base backup {BackupName}): {counted} in {c.Ranges} range(s), 0 differences, {seconds} s"
                : $"verify {Table}: {c.Differences.Count} difference(s) from production at LSN {Checkpoint} (base backup {BackupName}): {counted} in {c.Ranges} range(s), " +
                  $"{c.DifferingRanges} differing, {seconds} s",
        };
        lines.AddRange(c.Differences.Take(ListedKeys).Select(d => $"  {RowDifference.Word(d.Kind)}: {d.Described}"));
        if (c.Differences.Count > ListedKeys) lines.Add($"  ... and {c.Differences.Count - ListedKeys} more");
        if (Repaired)
            lines.Add($"verify {Table}: repaired {c.Differences.Count} row(s) from production in one local transaction; checkpoint {Checkpoint} unchanged");
        return lines;
    }

    /// <summary>The VERIFY row's text: <c>OK: …</c>, or <c>DIFFERENT: …</c> with the keys (and whether they were repaired).</summary>
    public string LogDetail()
    {
        var c = Comparison!;
        if (c.Identical) return $"OK: {c.ProductionRows} rows identical to production at LSN {Checkpoint} (base backup {BackupName}, {c.Ranges} range(s))";
        var keys = string.Join("; ", c.Differences.Take(ListedKeys).Select(d => $"{RowDifference.Word(d.Kind)} {d.Described}"));
        var more = c.Differences.Count > ListedKeys ? $"; and {c.Differences.Count - ListedKeys} more" : "";
        return $"DIFFERENT: {c.Differences.Count} row(s) differ from production at LSN {Checkpoint} (base backup {BackupName}, {c.DifferingRanges} of {c.Ranges} range(s)): " +
            $"{keys}{more}{(Repaired ? "; repaired" : "; run: datasync verify --repair " + Table)}";
    }
}
