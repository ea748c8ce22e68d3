namespace DataSync.Wal.Changes;

/// <summary>
/// pg_class or pg_attribute rewritten into a new file (VACUUM FULL, CLUSTER) by a transaction: where the
/// tracked rows sit in the new file, found in the pages the rewrite logged, to use once it commits.
/// </summary>
/// <param name="ClassFile">pg_class's new file number, or 0 when pg_class was not rewritten.</param>
/// <param name="AttributeFile">pg_attribute's new file number, or 0.</param>
internal sealed record CatalogRewrite(
    uint ClassFile,
    uint AttributeFile,
    IReadOnlyDictionary<ItemPointer, TrackedClassRow> ClassRows,
    IReadOnlyDictionary<ItemPointer, TrackedAttributeRow> AttributeRows);
