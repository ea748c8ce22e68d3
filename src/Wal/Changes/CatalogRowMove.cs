namespace DataSync.Wal.Changes;

/// <summary>A tracked pg_class row updated from <see cref="Old"/> to <see cref="New"/> by subtransaction <see cref="Xid"/>.</summary>
internal readonly record struct CatalogRowMove(uint Xid, ItemPointer Old, ItemPointer New, TrackedClassRow Row);
