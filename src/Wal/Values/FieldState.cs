namespace DataSync.Wal.Values;

/// <summary>What a decoded row knows of one column.</summary>
public enum FieldState : byte
{
    Null,
    Value,
    /// <summary>A TOAST pointer whose chunks were not written alongside this change: an UPDATE
    /// that left the column as it was. The local value must be kept, not overwritten.</summary>
    UnchangedToast,
}
