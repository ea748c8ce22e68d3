using System.Collections.Frozen;
using DataSync.Wal.Catalog;

namespace DataSync.Wal.Values;

/// <summary>
/// The one list of column types the decoder turns into COPY BINARY values. <c>add-tables</c> checks
/// a table against it, and the value converter dispatches on it, so the two cannot drift apart.
/// </summary>
/// <remarks>
/// Base types are listed by their built-in OID (fixed since PostgreSQL 7 and the same on every
/// cluster). Enums, arrays, domains and ranges are supported when what they are built on is supported:
/// an enum always, an array when its element type is, a domain when its base type is, a range (or
/// multirange) made with CREATE TYPE … AS RANGE when its subtype is, a composite when all its live
/// attributes' types are. Extension types are listed by extension and type name (<see cref="ExtensionTypes"/>).
/// </remarks>
public static class SupportedTypes
{
    /// <summary>Each supported base type: name, typlen, typalign (needed to walk array elements) and how
    /// its value is converted. A test checks the layouts against a live server's pg_type.</summary>
    public static readonly FrozenDictionary<uint, SupportedBaseType> Types = new SupportedBaseType[]
    {
        new(16, "bool", 1, 'c', SendForm.Verbatim),
        new(17, "bytea", -1, 'i', SendForm.VarlenaBytes),
        new(18, "char", 1, 'c', SendForm.Verbatim),
        new(19, "name", 64, 'c', SendForm.Name),
        new(20, "int8", 8, 'd', SendForm.ByteSwapped),
        new(21, "int2", 2, 's', SendForm.ByteSwapped),
        new(23, "int4", 4, 'i', SendForm.ByteSwapped),
        new(24, "regproc", 4, 'i', SendForm.ByteSwapped),
        new(25, "text", -1, 'i', SendForm.Text),
        new(26, "oid", 4, 'i', SendForm.ByteSwapped),
        new(27, "tid", 6, 's', SendForm.Tid),
        new(28, "xid", 4, 'i', SendForm.ByteSwapped),
        new(29, "cid", 4, 'i', SendForm.ByteSwapped),
        new(114, "json", -1, 'i', SendForm.Text),
        new(142, "xml", -1, 'i', SendForm.Xml),
        new(600, "point", 16, 'd', SendForm.Float8s),
        new(601, "lseg", 32, 'd', SendForm.Float8s),
        new(602, "path", -1, 'd', SendForm.Path),
        new(603, "box", 32, 'd', SendForm.Float8s),
        new(604, "polygon", -1, 'd', SendForm.Polygon),
        new(628, "line", 24, 'd', SendForm.Float8s),
        new(650, "cidr", -1, 'i', SendForm.Cidr),
        new(718, "circle", 24, 'd', SendForm.Float8s),
        new(700, "float4", 4, 'i', SendForm.ByteSwapped),
        new(701, "float8", 8, 'd', SendForm.ByteSwapped),
        new(774, "macaddr8", 8, 'i', SendForm.Verbatim),
        new(790, "money", 8, 'd', SendForm.ByteSwapped),
        new(829, "macaddr", 6, 'i', SendForm.Verbatim),
        new(869, "inet", -1, 'i', SendForm.Inet),
        new(1042, "bpchar", -1, 'i', SendForm.Text),
        new(1043, "varchar", -1, 'i', SendForm.Text),
        new(1082, "date", 4, 'i', SendForm.ByteSwapped),
        new(1083, "time", 8, 'd', SendForm.ByteSwapped),
        new(1114, "timestamp", 8, 'd', SendForm.ByteSwapped),
        new(1184, "timestamptz", 8, 'd', SendForm.ByteSwapped),
        new(1186, "interval", 16, 'd', SendForm.Interval),
        new(1266, "timetz", 12, 'd', SendForm.TimeWithZone),
        new(1560, "bit", -1, 'i', SendForm.BitString),
        new(1562, "varbit", -1, 'i', SendForm.BitString),
        new(1700, "numeric", -1, 'i', SendForm.Numeric),
        // The reg* types are OIDs, copied as numbers as binary COPY does: names resolve alike on both
        // sides for built-in objects only (their OIDs are fixed), not for production's own.
        new(2202, "regprocedure", 4, 'i', SendForm.ByteSwapped),
        new(2203, "regoper", 4, 'i', SendForm.ByteSwapped),
        new(2204, "regoperator", 4, 'i', SendForm.ByteSwapped),
        new(2205, "regclass", 4, 'i', SendForm.ByteSwapped),
        new(2206, "regtype", 4, 'i', SendForm.ByteSwapped),
        new(2950, "uuid", 16, 'c', SendForm.Verbatim),
        new(2970, "txid_snapshot", -1, 'd', SendForm.Snapshot),
        new(3220, "pg_lsn", 8, 'd', SendForm.ByteSwapped),
        new(3614, "tsvector", -1, 'i', SendForm.TextSearchVector),
        new(3615, "tsquery", -1, 'i', SendForm.TextSearchQuery),
        new(3734, "regconfig", 4, 'i', SendForm.ByteSwapped),
        new(3769, "regdictionary", 4, 'i', SendForm.ByteSwapped),
        new(3802, "jsonb", -1, 'i', SendForm.Jsonb),
        new(4072, "jsonpath", -1, 'i', SendForm.JsonPath),
        new(4089, "regnamespace", 4, 'i', SendForm.ByteSwapped),
        new(4096, "regrole", 4, 'i', SendForm.ByteSwapped),
        new(4191, "regcollation", 4, 'i', SendForm.ByteSwapped),
        // The built-in ranges and multiranges; OIDs and subtypes from pg_range.dat, fixed like the rest.
        new(3904, "int4range", -1, 'i', SendForm.Range, 23),
        new(3906, "numrange", -1, 'i', SendForm.Range, 1700),
        new(3908, "tsrange", -1, 'd', SendForm.Range, 1114),
        new(3910, "tstzrange", -1, 'd', SendForm.Range, 1184),
        new(3912, "daterange", -1, 'i', SendForm.Range, 1082),
        new(3926, "int8range", -1, 'd', SendForm.Range, 20),
        new(4451, "int4multirange", -1, 'i', SendForm.Multirange, 3904),
        new(4532, "nummultirange", -1, 'i', SendForm.Multirange, 3906),
        new(4533, "tsmultirange", -1, 'd', SendForm.Multirange, 3908),
        new(4534, "tstzmultirange", -1, 'd', SendForm.Multirange, 3910),
        new(4535, "datemultirange", -1, 'i', SendForm.Multirange, 3912),
        new(4536, "int8multirange", -1, 'd', SendForm.Multirange, 3926),
        new(5038, "pg_snapshot", -1, 'd', SendForm.Snapshot),
        new(5069, "xid8", 8, 'd', SendForm.ByteSwapped),
    }.ToFrozenDictionary(t => t.Oid);

    /// <summary>
    /// The extension types supported, by (extension, type name): an extension's types get their OIDs when it is
    /// created, so they differ from cluster to cluster. Their layouts come from the catalog.
    /// </summary>
    public static readonly FrozenDictionary<(string Extension, string Type), SendForm> ExtensionTypes = new Dictionary<(string, string), SendForm>
    {
        [("citext", "citext")] = SendForm.Text,
        [("hstore", "hstore")] = SendForm.Hstore,
        [("ltree", "ltree")] = SendForm.Ltree,
        [("ltree", "lquery")] = SendForm.Lquery,
        [("ltree", "ltxtquery")] = SendForm.Ltxtquery,
        [("cube", "cube")] = SendForm.Cube,
        [("postgis", "geometry")] = SendForm.Geometry,
        [("postgis", "geography")] = SendForm.Geometry,
        [("isn", "ean13")] = SendForm.IsnText,
        [("isn", "isbn13")] = SendForm.IsnText,
        [("isn", "ismn13")] = SendForm.IsnText,
        [("isn", "issn13")] = SendForm.IsnText,
        [("isn", "isbn")] = SendForm.IsnText,
        [("isn", "ismn")] = SendForm.IsnText,
        [("isn", "issn")] = SendForm.IsnText,
        [("isn", "upc")] = SendForm.IsnText,
    }.ToFrozenDictionary();

    /// <summary>
    /// For an extension whose types are carried as text (<see cref="IsTextForm"/>) but whose output functions do not always
    /// print what reads back to the same value, the type of that extension, in the same schema, that each of them casts to
    /// without a function and whose output does: a server prints a value's exact text when it is cast to that type first.
    /// isn: ean13 prints all 13 digits and the wrong-check-digit flag (<c>!</c>); issn and upc print a short form without
    /// the flag, issn also without its two issue digits.
    /// </summary>
    public static readonly FrozenDictionary<string, string> ExactTextVia = new Dictionary<string, string>
    {
        ["isn"] = "ean13",
    }.ToFrozenDictionary();

    /// <summary>Extensions whose types are refused for a reason worth naming.</summary>
    private static readonly FrozenDictionary<string, string> RefusedExtensions = new Dictionary<string, string>
    {
        ["postgis"] = "of PostGIS's types only geometry and geography are decoded",
    }.ToFrozenDictionary();

    /// <summary>
    /// Whether values in <paramref name="form"/> are written as the type's text, not its binary send form: forms of types
    /// that have no binary send and receive functions, whose text we can still print from the stored bytes.
    /// </summary>
    public static bool IsTextForm(SendForm form) => form == SendForm.IsnText;

    /// <summary>
    /// Whether values of <paramref name="typeOid"/> are written as text (<see cref="IsTextForm"/>): an extension type in a
    /// text form, or a domain or array over one.
    /// </summary>
    public static bool IsTextCarried(uint typeOid, TypeRegistry types, int depth = 0)
    {
        if (depth > 16 || Types.ContainsKey(typeOid) || !types.TryGet(typeOid, out var type)) return false;
        if (type.IsDomain) return IsTextCarried(type.BaseTypeOid, types, depth + 1);
        if (type.IsArray) return IsTextCarried(type.ElementOid, types, depth + 1);
        return type.Extension is { } extension && ExtensionTypes.TryGetValue((extension, type.Name), out var form) && IsTextForm(form);
    }

    /// <summary>Why a type carried as text cannot be part of <paramref name="container"/> (a composite or a range).</summary>
    internal static string TextCarriedInside(uint typeOid, TypeRegistry types, string container) =>
        $"type {(types.TryGet(typeOid, out var type) ? type.QualifiedName : typeOid.ToString(System.Globalization.CultureInfo.InvariantCulture))} " +
        $"has no binary send and receive functions: its values are carried as text, which works for a column (or an array or " +
        $"domain over the type) but not inside {container}";

    /// <summary>Base type OID → name, for messages and listings.</summary>
    public static readonly FrozenDictionary<uint, string> BaseTypes =
        Types.ToFrozenDictionary(t => t.Key, t => t.Value.Name);

    /// <summary>
    /// Null when values of <paramref name="typeOid"/> can be decoded; otherwise why not, naming the
    /// type (the reason <c>add-tables</c> prints).
    /// </summary>
    public static string? WhyUnsupported(uint typeOid, TypeRegistry types)
    {
        if (Types.ContainsKey(typeOid)) return null;
        if (!types.TryGet(typeOid, out var type)) return $"type OID {typeOid} is not in the catalog";
        if (type.IsEnum) return null;
        if (type.IsDomain)
        {
            var baseReason = WhyUnsupported(type.BaseTypeOid, types);
            return baseReason is null ? null : $"domain {type.QualifiedName}: {baseReason}";
        }

        if (type.IsArray)
        {
            var elementReason = WhyUnsupported(type.ElementOid, types);
            return elementReason is null ? null : $"array {type.QualifiedName}: {elementReason}";
        }

        if (type.Kind is 'r' or 'm')
        {
            if (type.RangeElementOid == 0) return $"range type {type.QualifiedName}: its subtype is not in the catalog";
            var innerReason = WhyUnsupported(type.RangeElementOid, types);
            if (innerReason is null && IsTextCarried(type.RangeElementOid, types)) innerReason = TextCarriedInside(type.RangeElementOid, types, "a range");
            return innerReason is null ? null : $"range type {type.QualifiedName}: {innerReason}";
        }

        if (type.IsComposite) return WhyUnsupportedComposite(type, types, 0);
        if (type.Extension is { } extension)
        {
            if (ExtensionTypes.ContainsKey((extension, type.Name))) return null;
            return RefusedExtensions.TryGetValue(extension, out var why)
                ? $"type {type.QualifiedName} of extension {extension} is not supported: {why}"
                : $"type {type.QualifiedName} of extension {extension} is not supported (supported extension types: " +
                  $"{string.Join(", ", ExtensionTypes.Keys.Select(k => k.Type).Order(StringComparer.Ordinal))})";
        }

        // A type by PostGIS's name that no extension postgis owns (made by hand, or by another extension) is not PostGIS's.
        if (type.Name is "geometry" or "geography")
            return $"type {type.QualifiedName} is not PostGIS's: no extension postgis owns it (create the extension postgis in this database and give the column its type)";
        return $"type {type.QualifiedName} is not supported";
    }

    private static string? WhyUnsupportedComposite(TypeDescriptor type, TypeRegistry types, int depth)
    {
        if (type.Attributes is not { } attributes) return $"composite type {type.QualifiedName}: its attributes are not in the catalog snapshot";
        if (depth > 16) return $"composite type {type.QualifiedName} nests too deeply";
        foreach (var attribute in attributes)
        {
            if (attribute.IsDropped) continue;
            var reason = types.TryGet(attribute.TypeOid, out var inner) && inner.IsComposite
                ? WhyUnsupportedComposite(inner, types, depth + 1)
                : WhyUnsupported(attribute.TypeOid, types);
            if (reason is null && IsTextCarried(attribute.TypeOid, types)) reason = TextCarriedInside(attribute.TypeOid, types, "a composite");
            if (reason is not null) return $"composite type {type.QualifiedName}, attribute {attribute.Name}: {reason}";
        }

        return null;
    }
}
