using System.Text.Json.Serialization;

namespace DataSync.Wal.Catalog;

/// <summary>
/// One attribute of a synced table as pg_attribute describes it: enough to walk a heap tuple
/// (length, alignment, dropped) and to turn the stored bytes into a value (type).
/// </summary>
/// <param name="AttNum">1-based attribute number; the position in the tuple.</param>
/// <param name="TypeOid">pg_attribute.atttypid; 0 for a dropped column.</param>
/// <param name="TypeModifier">atttypmod (-1 when none), e.g. n + 4 for char(n).</param>
/// <param name="Length">attlen: fixed size in bytes, -1 varlena, -2 C string.</param>
/// <param name="Alignment">attalign: 'c', 's', 'i' or 'd'.</param>
/// <param name="Storage">attstorage: 'p', 'e', 'm' or 'x'.</param>
/// <param name="HasMissing">atthasmissing: tuples written before the column was added carry no
/// bytes for it and take <paramref name="MissingValue"/> instead.</param>
/// <param name="MissingValue">The added-later default in COPY BINARY (send) form; null when the
/// default is NULL or the column has none.</param>
/// <param name="Generated">attgenerated: '\0' ordinary, 's' stored, 'v' virtual (stored as NULL).</param>
public sealed record ColumnDescriptor(
    short AttNum,
    string Name,
    uint TypeOid,
    int TypeModifier,
    short Length,
    char Alignment,
    bool ByValue,
    char Storage,
    bool IsDropped,
    bool NotNull,
    bool HasMissing,
    byte[]? MissingValue,
    char Generated)
{
    [JsonIgnore]
    public bool IsVarlena => Length == -1;

    /// <summary>True for columns COPY FROM fills: not dropped and not generated (PostgreSQL's COPY
    /// without a column list skips generated columns, stored or virtual).</summary>
    [JsonIgnore]
    public bool IsCopied => !IsDropped && Generated == '\0';

    /// <summary>The byte boundary this column's values start on.</summary>
    [JsonIgnore]
    public int AlignmentBytes => TypeAlignment.ToBytes(Alignment);
}
