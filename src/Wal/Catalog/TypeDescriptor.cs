using System.Text.Json.Serialization;

namespace DataSync.Wal.Catalog;

/// <summary>A pg_type row, as far as decoding values needs it.</summary>
/// <param name="Kind">typtype: 'b' base, 'e' enum, 'd' domain, 'c' composite, 'p' pseudo, 'r' range, 'm' multirange.</param>
/// <param name="ElementOid">typelem; for a true array (<paramref name="IsArray"/>) its element type.</param>
/// <param name="BaseTypeOid">typbasetype of a domain, else 0.</param>
/// <param name="RelationOid">typrelid of a composite type, else 0.</param>
/// <param name="IsArray">typsubscript is array_subscript_handler: a varlena array with the standard
/// header (unlike name or point, whose typelem means fixed-length subscripting).</param>
/// <param name="RangeElementOid">What a range type ranges over (pg_range.rngsubtype), and for a multirange its
/// range type (the pg_range row whose rngmultitypid it is); else 0.</param>
/// <param name="Extension">The extension the type belongs to (pg_depend 'e'), by which extension types are recognised:
/// their OIDs differ from cluster to cluster. Null for a type no extension owns.</param>
/// <param name="Attributes">For a composite type, the pg_attribute rows of its relation (typrelid), attnum ≥ 1 in
/// attnum order, dropped ones included: a stored composite value is a tuple laid out by them. Null otherwise, and
/// for composites in snapshots written before they were read.</param>
public sealed record TypeDescriptor(
    uint Oid,
    string Schema,
    string Name,
    char Kind,
    short Length,
    bool ByValue,
    char Alignment,
    char Storage,
    uint ElementOid,
    uint BaseTypeOid,
    uint RelationOid,
    bool IsArray,
    uint RangeElementOid = 0,
    string? Extension = null,
    IReadOnlyList<ColumnDescriptor>? Attributes = null)
{
    [JsonIgnore]
    public bool IsEnum => Kind == 'e';

    [JsonIgnore]
    public bool IsDomain => Kind == 'd';

    [JsonIgnore]
    public bool IsComposite => Kind == 'c';

    [JsonIgnore]
    public string QualifiedName => $"{Schema}.{Name}";

    public override string ToString() => QualifiedName;
}
