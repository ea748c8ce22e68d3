namespace DataSync.Wal.Catalog;

/// <summary>
/// What the decoder knows of production's catalog at one LSN: the synced tables, every type their
/// columns reach (array elements, domain bases), and the labels of the enums among them.
/// Immutable and plain, so it can be persisted as JSON (<see cref="CatalogJson"/>).
/// </summary>
/// <param name="CapturedAt">The WAL position the catalog was read at (<see cref="Lsn.Invalid"/> when unknown).</param>
/// <param name="ServerEncoding">Production's database encoding (pg_encoding_to_char), in which its text is stored.</param>
public sealed record CatalogSnapshot(
    Lsn CapturedAt,
    IReadOnlyList<TableDescriptor> Tables,
    IReadOnlyList<TypeDescriptor> Types,
    IReadOnlyList<EnumLabel> EnumLabels,
    string ServerEncoding = "UTF8")
{
    /// <summary>Converts each value's send form, text turned into UTF8 from <see cref="ServerEncoding"/>.</summary>
    public Values.ValueConverter CreateValueConverter() => new(CreateTypeRegistry(), Values.ServerTextEncoding.For(ServerEncoding));

    public TypeRegistry CreateTypeRegistry() => new(Types, EnumLabels);

    public TableDescriptor? FindByRelFileNode(uint relFileNode) =>
        Tables.FirstOrDefault(t => t.RelFileNode == relFileNode);

    /// <summary>The table whose TOAST relation has file number <paramref name="toastRelFileNode"/>:
    /// chunks arrive under that file number, pointers name the TOAST relation's OID.</summary>
    public TableDescriptor? FindByToastRelFileNode(uint toastRelFileNode) =>
        toastRelFileNode == 0 ? null : Tables.FirstOrDefault(t => t.ToastRelFileNode == toastRelFileNode);
}
