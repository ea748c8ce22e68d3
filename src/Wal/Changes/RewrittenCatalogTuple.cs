namespace DataSync.Wal.Changes;

/// <summary>
/// A tuple seen in a page logged whole for a file the decoder does not know yet (a catalog being rewritten
/// writes its new file this way) whose first field is a tracked relation's OID: a candidate for where that
/// relation's pg_class or pg_attribute row went, kept until the transaction says which file became which catalog.
/// </summary>
/// <param name="Data">The tuple's data (from t_hoff on), at most the catalog row's fixed part.</param>
/// <param name="IsLive">Not deleted or updated by anyone: the row's current version (a rewrite also copies versions
/// deleted too recently to drop).</param>
internal sealed record RewrittenCatalogTuple(uint File, ItemPointer At, byte[] Data, bool IsLive);
