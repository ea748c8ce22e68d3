namespace DataSync.Wal.Catalog;

/// <summary>One row of <see cref="CatalogQueries.Tables"/>, in its column order.</summary>
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
    short[] KeyAttNums);
