using System.Text.Json.Serialization;

namespace DataSync.Wal.Catalog;

/// <summary>
/// A production table being synced: where its rows live in WAL (the relfilenode and its TOAST
/// relation's) and the attribute list needed to decode them.
/// </summary>
/// <param name="TablespaceOid">The effective tablespace (the database default resolved), as block
/// references in WAL name it.</param>
/// <param name="ToastRelationOid">pg_class.reltoastrelid (0 when the table has none); TOAST
/// pointers carry this OID.</param>
/// <param name="ToastRelFileNode">The TOAST relation's file number, under which its chunks are
/// written to WAL.</param>
/// <param name="ReplicaIdentity">relreplident: 'd' primary key, 'i' index, 'f' full, 'n' nothing.</param>
/// <param name="KeyAttNums">The attribute numbers that identify a row (the replica identity's
/// columns; every live column for 'f'; empty for 'n').</param>
/// <param name="Columns">Every attribute with attnum ≥ 1 in attnum order, dropped ones included,
/// so index i holds attnum i + 1.</param>
public sealed record TableDescriptor(
    string Schema,
    string Name,
    uint RelationOid,
    uint RelFileNode,
    uint TablespaceOid,
    uint DatabaseOid,
    uint ToastRelationOid,
    uint ToastRelFileNode,
    char ReplicaIdentity,
    IReadOnlyList<short> KeyAttNums,
    IReadOnlyList<ColumnDescriptor> Columns)
{
    [JsonIgnore]
    public string QualifiedName => $"{Schema}.{Name}";

    /// <summary>The columns a COPY without a column list carries, in order.</summary>
    [JsonIgnore]
    public IEnumerable<ColumnDescriptor> CopiedColumns => Columns.Where(c => c.IsCopied);

    public ColumnDescriptor Column(short attNum) => Columns[attNum - 1];

    public override string ToString() => QualifiedName;
}
