namespace DataSync.Wal.Catalog;

/// <summary>One row of the tables query (DataSync.Core.Catalog.CatalogQueries.Tables), in its column order.</summary>
/// <param name="RootSchema">For a member of a synced partitioned table's tree below its root: the root's schema; else null.</param>
/// <param name="RootName">The root's name, beside <paramref name="RootSchema"/>.</param>
/// <param name="RootOid">The synced table the row was asked for (its own OID when it is that table).</param>
public sealed record TableRow(
    uint RelationOid,
    string Schema,
    string Name,
    uint RelFileNode,
    uint TablespaceOid,
    uint DatabaseOid,
    uint ToastRelationOid,
    uint ToastRelFileNode,
    char ReplicaIdentity,
    short[] KeyAttNums,
    string? RootSchema = null,
    string? RootName = null,
    uint RootOid = 0);
