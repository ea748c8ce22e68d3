namespace DataSync.Wal.Changes;

/// <summary>What one entry of a transaction's buffered log holds (see <see cref="TransactionLog"/>).</summary>
/// <remarks>Row changes and TOAST chunks come first: every kind from <see cref="Truncate"/> on is a catalog event (<see cref="TransactionLog.HasEventEntries"/> relies on this order).</remarks>
internal enum BufferedEntryKind : byte
{
    /// <summary>New tuple (WAL form) of an ordinary insert.</summary>
    Insert = 1,
    /// <summary>New tuple of an INSERT ... ON CONFLICT attempt; real only once confirmed.</summary>
    SpeculativeInsert,
    /// <summary>The speculative insert before it is final (heap CONFIRM).</summary>
    SpeculativeConfirm,
    /// <summary>The speculative insert before it lost its conflict and was killed (super-delete).</summary>
    SpeculativeAbort,
    /// <summary>Old key or row (may be empty), then the new tuple.</summary>
    Update,
    /// <summary>Old key or row (may be empty).</summary>
    Delete,
    /// <summary>A chunk tuple inserted into the table's TOAST relation.</summary>
    ToastChunk,
    /// <summary>TRUNCATE of the table (one entry per synced table the statement named).</summary>
    Truncate,
    /// <summary>The table's heap got a new relfilenode; payload: the number (u32).</summary>
    RelfilenodeChanged,
    /// <summary>
    /// The table's pg_class row changed without a new relfilenode while its definition is not known (locations saved
    /// before definitions were kept): taken for a definition change unless the transaction gave it a new file (decided at commit).
    /// </summary>
    RelationRowTouched,
    /// <summary>The table's definition changed or it was dropped; payload: the reason (UTF-8).</summary>
    SchemaChanged,
    /// <summary>
    /// One of the table's pg_attribute rows was written (a column added, dropped, renamed or retyped), when schema
    /// changes are followed; payload: the column as the row now defines it (<see cref="CatalogColumn.Encode"/>).
    /// </summary>
    ColumnDefined,
    /// <summary>
    /// A rewrite gave the table a new TOAST relation (or none), when schema changes are followed; payload: the TOAST
    /// relation's OID (u32) and file number (u32), both 0 for none.
    /// </summary>
    ToastReplaced,
    /// <summary>
    /// A row of the new heap an ALTER rewrote the table into (before it became the table's), when schema changes are
    /// followed; payload as <see cref="Insert"/>. Used only when the rewrite gave the rows values of their own.
    /// </summary>
    RewriteInsert,
    /// <summary>A chunk of that new heap's TOAST relation; payload: the relation's OID (u32), then the chunk tuple.</summary>
    RewriteToastChunk,
}
