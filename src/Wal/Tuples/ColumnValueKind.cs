namespace DataSync.Wal.Tuples;

/// <summary>What a heap tuple holds for one attribute.</summary>
public enum ColumnValueKind : byte
{
    /// <summary>NULL in the bitmap, or absent from an older tuple with no added-later default.</summary>
    Null,
    /// <summary>Stored bytes; for a varlena they include its header and may be a TOAST pointer or compressed.</summary>
    Present,
    /// <summary>Absent from a tuple written before the column was added; the value is the column's
    /// <see cref="Catalog.ColumnDescriptor.MissingValue"/>.</summary>
    Missing,
}
