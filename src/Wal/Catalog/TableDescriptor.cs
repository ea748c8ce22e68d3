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
/// columns; for 'f' the primary key's when there is one, since the full old row carries it and
/// columns that may be NULL cannot be matched with '=', else every live column; empty for 'n').</param>
/// <param name="Columns">Every attribute with attnum ≥ 1 in attnum order, dropped ones included,
/// so index i holds attnum i + 1.</param>
/// <param name="RootSchema">For a partition (or a partitioned table below the root) of a synced
/// partitioned table: the synced table's schema. Null for the synced table itself.</param>
/// <param name="RootName">The synced partitioned table's name, beside <paramref name="RootSchema"/>.</param>
/// <param name="RowAttNums">The attribute numbers a decoded row carries, in the order it carries them,
/// when that is not <see cref="CopiedColumns"/>' order: a partition's columns in its synced table's
/// order (matched by name; a partition's attnums differ when it was created after a column of the
/// parent was dropped, or attached with its columns in another order).</param>
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
    IReadOnlyList<ColumnDescriptor> Columns,
    string? RootSchema = null,
    string? RootName = null,
    IReadOnlyList<short>? RowAttNums = null)
{
    [JsonIgnore]
    public string QualifiedName => $"{Schema}.{Name}";

    /// <summary>The schema of the table this one's rows are synced into: its own, or its partition root's.</summary>
    [JsonIgnore]
    public string SyncedSchema => RootSchema ?? Schema;

    /// <summary>The name of the table this one's rows are synced into: its own, or its partition root's.</summary>
    [JsonIgnore]
    public string SyncedName => RootName ?? Name;

    /// <summary>A partition of a synced partitioned table (at any level).</summary>
    [JsonIgnore]
    public bool IsPartition => RootName is not null;

    /// <summary>False for a partitioned table: it has no file; its partitions hold the rows.</summary>
    [JsonIgnore]
    public bool HasStorage => RelFileNode != 0;

    /// <summary>The columns of a decoded row, in the order it carries them (see <see cref="RowAttNums"/>).</summary>
    [JsonIgnore]
    public IEnumerable<ColumnDescriptor> RowColumns => RowAttNums is { } order ? order.Select(Column) : CopiedColumns;

    /// <summary>The columns a COPY without a column list carries, in order.</summary>
    [JsonIgnore]
    public IEnumerable<ColumnDescriptor> CopiedColumns => Columns.Where(c => c.IsCopied);

    public ColumnDescriptor Column(short attNum) => Columns[attNum - 1];

    public override string ToString() => QualifiedName;
}
