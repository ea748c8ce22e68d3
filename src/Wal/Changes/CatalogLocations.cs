namespace DataSync.Wal.Changes;

/// <summary>
/// Where the catalog rows that describe the synced tables sit, as of the start LSN: the files of
/// pg_class and pg_attribute and the tuple position (ctid) of each synced table's pg_class row, its
/// TOAST relation's pg_class row and its pg_attribute rows. Catalog changes are not logically
/// logged (their WAL often lacks the row's OID), so the decoder recognises a change to a synced
/// table's catalog rows by the position it hits and follows the rows as they move.
/// </summary>
/// <param name="PgInheritsRelFileNode">pg_inherits' file number: a row inserted there with a synced
/// partitioned table as its parent is a partition attached to it (0 when unknown: not followed).</param>
/// <param name="PgIndexRelFileNode">pg_index's file number: a primary key or replica identity index inserted
/// there for a synced table changes the key its changes are matched by (0 when unknown: not followed).</param>
/// <remarks>Read together with the <see cref="Catalog.CatalogSnapshot"/>; the SQL that reads it is DataSync.Core.Catalog.CatalogLocationQueries.</remarks>
public sealed record CatalogLocations(
    uint DatabaseOid,
    uint PgClassRelFileNode,
    uint PgAttributeRelFileNode,
    IReadOnlyList<CatalogRowLocation> Rows,
    uint PgInheritsRelFileNode = 0,
    uint PgIndexRelFileNode = 0);

/// <summary>
/// One catalog row of a synced relation: its pg_class row (<see cref="AttNum"/> 0) or one of its
/// pg_attribute rows, at block <see cref="Block"/>, line pointer <see cref="Offnum"/>.
/// </summary>
/// <param name="RelationOid">The table's OID, or its TOAST relation's for the TOAST relation's pg_class row.</param>
/// <param name="Definition">The fields of the row that define what is synced (see <see cref="CatalogRowDefinition"/>);
/// null when not known (locations saved before they were kept): then any change to the row counts as a definition change.</param>
public readonly record struct CatalogRowLocation(uint RelationOid, short AttNum, uint Block, ushort Offnum, byte[]? Definition = null)
{
    public bool IsClassRow => AttNum == 0;
}
