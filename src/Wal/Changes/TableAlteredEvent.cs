using DataSync.Wal.Catalog;

namespace DataSync.Wal.Changes;

/// <summary>
/// A synced table's columns changed upstream in a way the decoder follows (columns added, dropped or renamed, a type
/// widened), when schema changes are followed: the table's rows before this point decode with <see cref="Before"/>,
/// those after it with <see cref="After"/>. The local table takes the same <see cref="Alterations"/> at this point,
/// in the same local transaction as the table's rows around it.
/// </summary>
public sealed class TableAlteredEvent(Lsn lsn, TableDescriptor before, TableDescriptor after, IReadOnlyList<ColumnAlteration> alterations) : CatalogEvent(lsn)
{
    public TableDescriptor Before { get; } = before;

    public TableDescriptor After { get; } = after;

    /// <summary>What changed, in the order the local table takes it: drops, renames, type changes, additions.</summary>
    public IReadOnlyList<ColumnAlteration> Alterations { get; } = alterations;

    /// <summary>The same table: rows of a synced table are routed by it.</summary>
    public TableDescriptor Table => After;

    public override string ToString() => $"{After.QualifiedName} altered ({string.Join("; ", Alterations)}) at {Lsn}";
}
