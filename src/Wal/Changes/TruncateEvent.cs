using DataSync.Wal.Catalog;

namespace DataSync.Wal.Changes;

/// <summary>TRUNCATE emptied these synced tables (one event per statement).</summary>
public sealed class TruncateEvent(Lsn lsn, IReadOnlyList<TableDescriptor> tables, bool cascade, bool restartSequences) : CatalogEvent(lsn)
{
    public IReadOnlyList<TableDescriptor> Tables { get; } = tables;
    public bool Cascade { get; } = cascade;
    public bool RestartSequences { get; } = restartSequences;

    public override string ToString() => $"TRUNCATE {string.Join(", ", Tables.Select(t => t.QualifiedName))} at {Lsn}";
}
