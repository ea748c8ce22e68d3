namespace DataSync.Core.Apply;

/// <summary>
/// Row changes applied to one table, counted as production made them (not after netting out), and the rows
/// an upstream TRUNCATE removed. Those are not row changes production committed one by one: they stay out of
/// <see cref="Total"/> (what <c>rows_synced</c> reports) and are counted on their own.
/// </summary>
public readonly record struct ApplyCounts(long Inserted, long Updated, long Deleted, long Truncated = 0)
{
    public long Total => Inserted + Updated + Deleted;

    public static ApplyCounts operator +(ApplyCounts a, ApplyCounts b) =>
        new(a.Inserted + b.Inserted, a.Updated + b.Updated, a.Deleted + b.Deleted, a.Truncated + b.Truncated);
}
