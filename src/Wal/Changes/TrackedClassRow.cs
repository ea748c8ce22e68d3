namespace DataSync.Wal.Changes;

/// <summary>A synced table's (or its TOAST relation's) pg_class row as tracked: whose it is and the file it names.</summary>
internal readonly record struct TrackedClassRow(int Table, bool IsToast, uint RelationOid, uint RelFileNode);
