namespace DataSync.Wal.Catalog;

/// <summary>A pg_enum row. An enum column stores <paramref name="Oid"/> (this row's OID), and COPY
/// BINARY sends <paramref name="Label"/>.</summary>
public sealed record EnumLabel(uint Oid, uint TypeOid, float SortOrder, string Label);
