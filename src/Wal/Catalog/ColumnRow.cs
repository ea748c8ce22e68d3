namespace DataSync.Wal.Catalog;

/// <summary>One row of the columns query (DataSync.Core.Catalog.CatalogQueries.Columns), in its column order.</summary>
/// <param name="MissingValueArray">array_send(attmissingval): the added-later default as a
/// one-element array in send form, or null.</param>
/// <param name="MissingValueText">The added-later default as the text the server prints for it, for a column whose type
/// has no binary send form (whose values are carried as text); null otherwise.</param>
public sealed record ColumnRow(
    uint RelationOid,
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
    byte[]? MissingValueArray,
    char Generated,
    string? MissingValueText = null);
