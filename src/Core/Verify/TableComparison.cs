namespace DataSync.Core.Verify;

/// <summary>
/// What comparing a table range by range found: the rows on each side, how many ranges were hashed and how many of
/// them differed, and the differing rows (in key order within each range, ranges in order).
/// </summary>
public sealed record TableComparison(long ProductionRows, long LocalRows, int Ranges, int DifferingRanges, IReadOnlyList<RowDifference> Differences)
{
    public bool Identical => Differences.Count == 0;
}
