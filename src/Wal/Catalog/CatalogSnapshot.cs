namespace DataSync.Wal.Catalog;

/// <summary>
/// What the decoder knows of production's catalog at one LSN: the synced tables, every type their
/// columns reach (array elements, domain bases), and the labels of the enums among them.
/// Immutable and plain, so it can be persisted as JSON (<see cref="CatalogJson"/>).
/// </summary>
/// <param name="CapturedAt">The WAL position the catalog was read at (<see cref="Lsn.Invalid"/> when unknown).</param>
public sealed record CatalogSnapshot(
    Lsn CapturedAt,
    IReadOnlyList<TableDescriptor> Tables,
    IReadOnlyList<TypeDescriptor> Types,
    IReadOnlyList<EnumLabel> EnumLabels)
{
    public TypeRegistry CreateTypeRegistry() => new(Types, EnumLabels);

    public TableDescriptor? FindByRelFileNode(uint relFileNode) =>
        Tables.FirstOrDefault(t => t.RelFileNode == relFileNode);

    /// <summary>The table whose TOAST relation has file number <paramref name="toastRelFileNode"/>:
    /// chunks arrive under that file number, pointers name the TOAST relation's OID.</summary>
    public TableDescriptor? FindByToastRelFileNode(uint toastRelFileNode) =>
        toastRelFileNode == 0 ? null : Tables.FirstOrDefault(t => t.ToastRelFileNode == toastRelFileNode);
}
