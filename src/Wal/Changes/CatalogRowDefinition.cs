using System.Buffers.Binary;

namespace DataSync.Wal.Changes;

/// <summary>
/// The part of a synced table's pg_class row, or of one of its pg_attribute rows, that defines what
/// is synced, kept as the row's fixed-size leading bytes (PostgreSQL 18 layout) with only the fields
/// that matter filled in. Everything else in those rows (privileges, statistics, trigger and index
/// flags, frozen xids, options, owner) may change without the table's rows changing shape, so an
/// update that leaves these fields alone is not a definition change.
/// </summary>
/// <remarks>
/// Offsets are those of src/include/catalog/pg_class.h and pg_attribute.h in PostgreSQL 18 (pg_class:
/// relallfrozen at 108, fixed part 144 bytes; pg_attribute: no attcacheoff, fixed part 100 bytes).
/// </remarks>
public static class CatalogRowDefinition
{
    /// <summary>One field: where it sits in the row's data and what to call it when it changes.</summary>
    public readonly record struct Field(string Name, int Offset, int Length);

    public const int ClassLength = 144;
    public const int AttributeLength = 100;

    /// <summary>
    /// pg_class: the name and schema (the table's identity), the access method, the TOAST relation,
    /// persistence, kind, column count, replica identity and whether it is a partition. The file
    /// number (relfilenode) is followed separately.
    /// </summary>
    public static readonly IReadOnlyList<Field> ClassFields =
    [
        new("relname", 4, 64),
        new("relnamespace", 68, 4),
        new("relam", 84, 4),
        new("reltoastrelid", 112, 4),
        new("relpersistence", 118, 1),
        new("relkind", 119, 1),
        new("relnatts", 120, 2),
        new("relreplident", 130, 1),
        new("relispartition", 131, 1),
    ];

    /// <summary>pg_attribute: name, type, length, number, type modifier, how it is stored by value and aligned, generated, dropped.</summary>
    public static readonly IReadOnlyList<Field> AttributeFields =
    [
        new("attname", 4, 64),
        new("atttypid", 68, 4),
        new("attlen", 72, 2),
        new("attnum", 74, 2),
        new("atttypmod", 76, 4),
        new("attbyval", 82, 1),
        new("attalign", 83, 1),
        new("attgenerated", 90, 1),
        new("attisdropped", 91, 1),
    ];

    /// <summary>A pg_class row's definition from its values (as read from the catalog).</summary>
    public static byte[] ForClass(ReadOnlySpan<byte> name, uint relationOid, uint namespaceOid, uint accessMethod, uint toastRelationOid,
        byte persistence, byte kind, short attributeCount, byte replicaIdentity, bool isPartition)
    {
        var row = new byte[ClassLength];
        BinaryPrimitives.WriteUInt32LittleEndian(row, relationOid);
        WriteName(row.AsSpan(4, 64), name);
        BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(68), namespaceOid);
        BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(84), accessMethod);
        BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(112), toastRelationOid);
        row[118] = persistence;
        row[119] = kind;
        BinaryPrimitives.WriteInt16LittleEndian(row.AsSpan(120), attributeCount);
        row[130] = replicaIdentity;
        row[131] = isPartition ? (byte)1 : (byte)0;
        return row;
    }

    /// <summary>A pg_attribute row's definition from its values.</summary>
    public static byte[] ForAttribute(ReadOnlySpan<byte> name, uint relationOid, uint typeOid, short length, short attNum, int typeModifier,
        bool byValue, byte alignment, byte generated, bool isDropped)
    {
        var row = new byte[AttributeLength];
        BinaryPrimitives.WriteUInt32LittleEndian(row, relationOid);
        WriteName(row.AsSpan(4, 64), name);
        BinaryPrimitives.WriteUInt32LittleEndian(row.AsSpan(68), typeOid);
        BinaryPrimitives.WriteInt16LittleEndian(row.AsSpan(72), length);
        BinaryPrimitives.WriteInt16LittleEndian(row.AsSpan(74), attNum);
        BinaryPrimitives.WriteInt32LittleEndian(row.AsSpan(76), typeModifier);
        row[82] = byValue ? (byte)1 : (byte)0;
        row[83] = alignment;
        row[90] = generated;
        row[91] = isDropped ? (byte)1 : (byte)0;
        return row;
    }

    /// <summary>The definition held in a whole row's data (from t_hoff on); null when the data is too short.</summary>
    public static byte[]? FromData(ReadOnlySpan<byte> data, IReadOnlyList<Field> fields, int length)
    {
        if (data.Length < length) return null;
        var row = new byte[length];
        data[..4].CopyTo(row);
        foreach (var field in fields) data.Slice(field.Offset, field.Length).CopyTo(row.AsSpan(field.Offset));
        return row;
    }

    /// <summary>
    /// The new version's definition from an update logged without the bytes it shares with the old
    /// version: <paramref name="prefixLength"/> leading data bytes are the old row's, then come the
    /// logged <paramref name="middle"/> bytes, then the old row's trailing ones. Catalog updates keep
    /// the fixed part's size, so a byte after the middle is taken to be the old row's at the same offset.
    /// </summary>
    public static byte[] FromUpdate(byte[] old, int prefixLength, ReadOnlySpan<byte> middle, IReadOnlyList<Field> fields)
    {
        var row = (byte[])old.Clone();
        foreach (var field in fields)
        {
            for (var at = field.Offset; at < field.Offset + field.Length; at++)
            {
                var inMiddle = at - prefixLength;
                if (inMiddle >= 0 && inMiddle < middle.Length) row[at] = middle[inMiddle];
            }
        }

        return row;
    }

    /// <summary>The names of the fields whose bytes differ (empty when the definition is the same).</summary>
    public static IReadOnlyList<string> Differences(byte[] old, byte[] now, IReadOnlyList<Field> fields)
    {
        var changed = new List<string>();
        foreach (var field in fields)
            if (!Value(old, field).SequenceEqual(Value(now, field)))
                changed.Add(field.Name);
        return changed;
    }

    /// <summary>A field's bytes; a name only up to its terminating zero (what follows it means nothing).</summary>
    private static ReadOnlySpan<byte> Value(byte[] row, Field field)
    {
        var bytes = row.AsSpan(field.Offset, field.Length);
        if (field.Length != 64) return bytes;
        var end = bytes.IndexOf((byte)0);
        return end < 0 ? bytes : bytes[..end];
    }

    /// <summary>The row's relation OID (pg_class oid, pg_attribute attrelid), the first field of both.</summary>
    public static uint RelationOid(ReadOnlySpan<byte> data) => data.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(data) : 0;

    /// <summary>A pg_attribute row's attnum.</summary>
    public static short AttNum(ReadOnlySpan<byte> data) => data.Length >= 76 ? BinaryPrimitives.ReadInt16LittleEndian(data[74..]) : (short)0;

    private static void WriteName(Span<byte> target, ReadOnlySpan<byte> name)
    {
        // NameData: up to 63 bytes and zero padding to 64.
        name[..Math.Min(name.Length, target.Length - 1)].CopyTo(target);
    }
}
