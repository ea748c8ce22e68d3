namespace DataSync.Core.Apply;

/// <summary>Row changes applied to one table, counted as production made them (not after netting out).</summary>
public readonly record struct ApplyCounts(long Inserted, long Updated, long Deleted)
{
    public long Total => Inserted + Updated + Deleted;

    public static ApplyCounts operator +(ApplyCounts a, ApplyCounts b) => new(a.Inserted + b.Inserted, a.Updated + b.Updated, a.Deleted + b.Deleted);
}
