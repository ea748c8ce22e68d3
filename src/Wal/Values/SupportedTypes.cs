using System.Collections.Frozen;

namespace DataSync.Wal.Values;

/// <summary>
/// The one list of column types the decoder turns into COPY BINARY values. <c>add-tables</c> checks
/// a table against it, and the value converter dispatches on it, so the two cannot drift apart.
/// </summary>
/// <remarks>
/// Base types are listed by their built-in OID (fixed since PostgreSQL 7 and the same on every
/// cluster). Enums, arrays and domains are supported when what they are built on is supported:
/// an enum always, an array when its element type is, a domain when its base type is.
/// </remarks>
public static class SupportedTypes
{
    public static readonly FrozenDictionary<uint, string> BaseTypes = new Dictionary<uint, string>
    {
        [16] = "bool",
        [17] = "bytea",
        [19] = "name",
        [20] = "int8",
        [21] = "int2",
        [23] = "int4",
        [25] = "text",
        [26] = "oid",
        [114] = "json",
        [650] = "cidr",
        [700] = "float4",
        [701] = "float8",
        [774] = "macaddr8",
        [790] = "money",
        [829] = "macaddr",
        [869] = "inet",
        [1042] = "bpchar",
        [1043] = "varchar",
        [1082] = "date",
        [1083] = "time",
        [1114] = "timestamp",
        [1184] = "timestamptz",
        [1186] = "interval",
        [1266] = "timetz",
        [1560] = "bit",
        [1562] = "varbit",
        [1700] = "numeric",
        [2950] = "uuid",
        [3802] = "jsonb",
    }.ToFrozenDictionary();

    /// <summary>pg_type.typtype of an enum.</summary>
    public const char EnumTypeKind = 'e';

    /// <summary>pg_type.typtype of a domain.</summary>
    public const char DomainTypeKind = 'd';

    public static bool IsSupportedBaseType(uint typeOid) => BaseTypes.ContainsKey(typeOid);
}
