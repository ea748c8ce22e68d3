namespace DataSync.Wal.Changes;

/// <summary>
/// One pg_attribute row of a synced table as tracked: the table, the column's attnum and its
/// <see cref="CatalogRowDefinition"/> (null when not known: any change then counts as a definition change).
/// </summary>
internal readonly record struct TrackedAttributeRow(int Table, short AttNum, byte[]? Definition = null);
