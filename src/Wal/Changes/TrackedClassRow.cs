namespace DataSync.Wal.Changes;

/// <summary>
/// A synced table's (or its TOAST relation's) pg_class row as tracked: whose it is, the file it names and
/// its <see cref="CatalogRowDefinition"/> (null when not known: any change then counts as a definition change).
/// </summary>
internal readonly record struct TrackedClassRow(int Table, bool IsToast, uint RelationOid, uint RelFileNode, byte[]? Definition = null);
