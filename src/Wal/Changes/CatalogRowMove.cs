namespace DataSync.Wal.Changes;

/// <summary>
/// A tracked catalog row updated from <see cref="Old"/> to <see cref="New"/> by subtransaction <see cref="Xid"/>, in the
/// catalog file <see cref="File"/>: a pg_class row (<see cref="Attribute"/> null) or a pg_attribute row.
/// </summary>
internal readonly record struct CatalogRowMove(uint Xid, ItemPointer Old, ItemPointer New, TrackedClassRow Row, uint File = 0,
    TrackedAttributeRow? Attribute = null);
