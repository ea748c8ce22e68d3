namespace DataSync.Wal.Changes;

/// <summary>What a <see cref="RowChange"/> does to a row.</summary>
public enum ChangeKind : byte
{
    Insert,
    Update,
    Delete,
}
