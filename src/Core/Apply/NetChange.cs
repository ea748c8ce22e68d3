using DataSync.Wal;
using DataSync.Wal.Values;

namespace DataSync.Core.Apply;

/// <summary>
/// What a round of changes does to one row once netted out, in commit order: where the row was in the
/// local table when the round began (<see cref="OriginKey"/>, null when it did not exist), and whether it
/// ends deleted or as a row image, possibly under another key. Fields of the image marked unchanged
/// TOAST keep the local value.
/// </summary>
internal sealed class NetChange(byte[]? originKey, Lsn lsn)
{
    /// <summary>The key the row had locally when the round began (its COPY BINARY fields); null for a row the round inserts.</summary>
    public byte[]? OriginKey { get; } = originKey;

    /// <summary>The final image; null when the row ends deleted.</summary>
    public DecodedRow? Row { get; set; }

    /// <summary>The LSN of the last change to this row, named when it conflicts.</summary>
    public Lsn Lsn { get; set; } = lsn;

    /// <summary>True once an update in the round gave the row another key; its UPDATE then assigns the key columns too.</summary>
    public bool KeyMoved { get; set; }

    /// <summary>A row the local table does not have yet, written by COPY straight into it.</summary>
    public bool IsInsert => OriginKey is null && Row is not null;

    /// <summary>A row the local table has, deleted or rewritten through the staging table.</summary>
    public bool IsStaged => OriginKey is not null;
}
