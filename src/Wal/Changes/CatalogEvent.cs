using DataSync.Wal.Catalog;

namespace DataSync.Wal.Changes;

/// <summary>
/// A committed change to a synced table that is not a row change: see <see cref="TruncateEvent"/>,
/// <see cref="RelfilenodeChangedEvent"/> and <see cref="SchemaChangedEvent"/>.
/// </summary>
public abstract class CatalogEvent : TransactionChange
{
    private protected CatalogEvent(Lsn lsn) : base(lsn)
    {
    }
}

/// <summary>TRUNCATE emptied these synced tables (one event per statement).</summary>
public sealed class TruncateEvent(Lsn lsn, IReadOnlyList<TableDescriptor> tables, bool cascade, bool restartSequences) : CatalogEvent(lsn)
{
    public IReadOnlyList<TableDescriptor> Tables { get; } = tables;
    public bool Cascade { get; } = cascade;
    public bool RestartSequences { get; } = restartSequences;

    public override string ToString() => $"TRUNCATE {string.Join(", ", Tables.Select(t => t.QualifiedName))} at {Lsn}";
}

/// <summary>
/// The table's rows now live in a new file (VACUUM FULL, CLUSTER, TRUNCATE, a rewriting ALTER, SET
/// TABLESPACE ...). The decoder follows it by itself; the event is for the record.
/// </summary>
public sealed class RelfilenodeChangedEvent(Lsn lsn, TableDescriptor table, uint newRelFileNode) : CatalogEvent(lsn)
{
    public TableDescriptor Table { get; } = table;
    public uint NewRelFileNode { get; } = newRelFileNode;

    public override string ToString() => $"{Table.QualifiedName} relfilenode -> {NewRelFileNode} at {Lsn}";
}

/// <summary>
/// The table's definition (its pg_class or pg_attribute rows) changed, or it was dropped. The
/// decoder's descriptor is stale from here on, so it stops emitting the table's rows: the table
/// needs the same DDL locally and a resync.
/// </summary>
public sealed class SchemaChangedEvent(Lsn lsn, TableDescriptor table, string what) : CatalogEvent(lsn)
{
    public TableDescriptor Table { get; } = table;

    /// <summary>What was seen, in words (e.g. "column 3 changed", "dropped").</summary>
    public string What { get; } = what;

    public override string ToString() => $"{Table.QualifiedName} schema changed ({What}) at {Lsn}";
}
