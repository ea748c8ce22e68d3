using DataSync.Wal.Catalog;

namespace DataSync.Wal.Changes;

/// <summary>
/// The table's definition (its pg_class or pg_attribute rows) changed, or it was dropped. The
/// decoder's descriptor is stale from here on, so it stops emitting the table's rows: the table
/// needs the same DDL locally and a resync.
/// </summary>
public sealed class SchemaChangedEvent(Lsn lsn, TableDescriptor table, string what) : CatalogEvent(lsn)
{
    public TableDescriptor Table { get; } = table;

    /// <summary>What was seen, in words (e.g. "column 3 changed", "dropped").</summary>
    public string What { get; } = what;

    public override string ToString() => $"{Table.QualifiedName} schema changed ({What}) at {Lsn}";
}
