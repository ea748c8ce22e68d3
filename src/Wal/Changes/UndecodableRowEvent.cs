using DataSync.Wal.Catalog;

namespace DataSync.Wal.Changes;

/// <summary>
/// A committed change to one table that could not be decoded (a damaged tuple or value, TOAST chunks that do
/// not add up, a type the decoder cannot convert). It concerns that table alone: the decoder stops emitting the
/// table's rows, as after a schema change, and the other tables go on. The table needs a resync.
/// </summary>
public sealed class UndecodableRowEvent(Lsn lsn, TableDescriptor table, uint xid, string detail) : CatalogEvent(lsn)
{
    public TableDescriptor Table { get; } = table;

    /// <summary>The top-level transaction that wrote the change.</summary>
    public uint Xid { get; } = xid;

    /// <summary>What could not be decoded, in words.</summary>
    public string Detail { get; } = detail;

    public override string ToString() => $"{Table.QualifiedName}: change at {Lsn} of transaction {Xid} cannot be decoded: {Detail}";
}
