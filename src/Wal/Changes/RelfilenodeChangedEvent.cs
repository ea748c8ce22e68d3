using DataSync.Wal.Catalog;

namespace DataSync.Wal.Changes;

/// <summary>
/// The table's rows now live in a new file (VACUUM FULL, CLUSTER, TRUNCATE, a rewriting ALTER, SET
/// TABLESPACE ...). The decoder follows it by itself; the event is for the record.
/// </summary>
public sealed class RelfilenodeChangedEvent(Lsn lsn, TableDescriptor table, uint newRelFileNode) : CatalogEvent(lsn)
{
    public TableDescriptor Table { get; } = table;
    public uint NewRelFileNode { get; } = newRelFileNode;

    public override string ToString() => $"{Table.QualifiedName} relfilenode -> {NewRelFileNode} at {Lsn}";
}
