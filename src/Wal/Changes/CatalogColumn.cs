using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tuples;

namespace DataSync.Wal.Changes;

/// <summary>
/// A synced table's column as one pg_attribute row read from WAL defines it, carried from the catalog record that
/// wrote the row to the commit that makes it count (in a <see cref="BufferedEntryKind.ColumnDefined"/> entry). Its
/// name and added-later default are still in production's stored form: the materializer, which holds the value
/// converter, turns them into text and a send value.
/// </summary>
/// <param name="IsPartial">
/// Only the fields a <see cref="CatalogRowDefinition"/> holds are known (an update of a row the decoder saw only as a
/// definition, with the bytes it shares with the old version left out of the record): storage, NOT NULL, default and
/// the added-later default stay those of the column as the decoder knows it.
/// </param>
/// <param name="Name">attname as stored: NameData, zero-padded (up to 64 bytes).</param>
/// <param name="MissingValue">attmissingval as stored (the whole varlena, an array of one element), or null.</param>
internal sealed record CatalogColumn(
    bool IsPartial,
    short AttNum,
    byte[] Name,
    uint TypeOid,
    int TypeModifier,
    short Length,
    bool ByValue,
    char Alignment,
    char Storage,
    bool NotNull,
    bool HasDefault,
    bool HasMissing,
    char Identity,
    char Generated,
    bool IsDropped,
    byte[]? MissingValue)
{
    // Offsets in a PostgreSQL 18 pg_attribute row's data (src/include/catalog/pg_attribute.h); the fixed part is 100
    // bytes and holds no NULLs, so these offsets hold in every row.
    private const int NameOffset = 4;
    private const int TypeOffset = 68;
    private const int LengthOffset = 72;
    private const int AttNumOffset = 74;
    private const int TypeModifierOffset = 76;
    private const int ByValueOffset = 82;
    private const int AlignmentOffset = 83;
    private const int StorageOffset = 84;
    private const int NotNullOffset = 86;
    private const int HasDefaultOffset = 87;
    private const int HasMissingOffset = 88;
    private const int IdentityOffset = 89;
    private const int GeneratedOffset = 90;
    private const int DroppedOffset = 91;

    /// <summary>
    /// pg_attribute's own columns in PostgreSQL 18, enough to walk a row to its variable part: attstattarget, attacl,
    /// attoptions, attfdwoptions, attmissingval follow the fixed 100 bytes, each of them may be NULL.
    /// </summary>
    private static readonly IReadOnlyList<ColumnDescriptor> PgAttributeColumns = BuildPgAttributeColumns();

    private const int MissingValueIndex = 24;

    /// <summary>The column a whole pg_attribute row defines (header fields and the tuple from its byte 23 on).</summary>
    public static CatalogColumn FromTuple(HeapTupleHeader header, ReadOnlySpan<byte> tupleFromByte23)
    {
        var dataStart = header.Hoff - HeapTupleHeader.PageHeaderSize;
        if (dataStart < 0 || dataStart + CatalogRowDefinition.AttributeLength > tupleFromByte23.Length)
            throw new TupleFormatException($"a pg_attribute row of {tupleFromByte23.Length + HeapTupleHeader.PageHeaderSize} bytes is shorter than its fixed part");
        var data = tupleFromByte23[dataStart..];
        Span<DeformedColumn> deformed = stackalloc DeformedColumn[PgAttributeColumns.Count];
        HeapTupleDeformer.Deform(header, tupleFromByte23, PgAttributeColumns, "pg_attribute", deformed);
        var missing = deformed[MissingValueIndex];
        return new CatalogColumn(false,
            BinaryPrimitives.ReadInt16LittleEndian(data[AttNumOffset..]),
            data.Slice(NameOffset, 64).ToArray(),
            BinaryPrimitives.ReadUInt32LittleEndian(data[TypeOffset..]),
            BinaryPrimitives.ReadInt32LittleEndian(data[TypeModifierOffset..]),
            BinaryPrimitives.ReadInt16LittleEndian(data[LengthOffset..]),
            data[ByValueOffset] != 0,
            (char)data[AlignmentOffset],
            (char)data[StorageOffset],
            data[NotNullOffset] != 0,
            data[HasDefaultOffset] != 0,
            data[HasMissingOffset] != 0,
            (char)data[IdentityOffset],
            (char)data[GeneratedOffset],
            data[DroppedOffset] != 0,
            missing.Kind == ColumnValueKind.Present ? missing.Slice(tupleFromByte23).ToArray() : null);
    }

    /// <summary>The column as far as a row definition (<see cref="CatalogRowDefinition.AttributeFields"/>) tells it.</summary>
    public static CatalogColumn FromDefinition(byte[] definition) =>
        new(true,
            BinaryPrimitives.ReadInt16LittleEndian(definition.AsSpan(AttNumOffset)),
            definition.AsSpan(NameOffset, 64).ToArray(),
            BinaryPrimitives.ReadUInt32LittleEndian(definition.AsSpan(TypeOffset)),
            BinaryPrimitives.ReadInt32LittleEndian(definition.AsSpan(TypeModifierOffset)),
            BinaryPrimitives.ReadInt16LittleEndian(definition.AsSpan(LengthOffset)),
            definition[ByValueOffset] != 0,
            (char)definition[AlignmentOffset],
            'p', false, false, false, '\0',
            (char)definition[GeneratedOffset],
            definition[DroppedOffset] != 0,
            null);

    /// <summary>The bytes of an entry's payload.</summary>
    public byte[] Encode()
    {
        var missing = MissingValue?.Length ?? -1;
        var bytes = new byte[Fixed + 64 + 4 + Math.Max(0, missing)];
        var span = bytes.AsSpan();
        span[0] = IsPartial ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt16LittleEndian(span[1..], AttNum);
        BinaryPrimitives.WriteUInt32LittleEndian(span[3..], TypeOid);
        BinaryPrimitives.WriteInt32LittleEndian(span[7..], TypeModifier);
        BinaryPrimitives.WriteInt16LittleEndian(span[11..], Length);
        span[13] = ByValue ? (byte)1 : (byte)0;
        span[14] = (byte)Alignment;
        span[15] = (byte)Storage;
        span[16] = NotNull ? (byte)1 : (byte)0;
        span[17] = HasDefault ? (byte)1 : (byte)0;
        span[18] = HasMissing ? (byte)1 : (byte)0;
        span[19] = (byte)Identity;
        span[20] = (byte)Generated;
        span[21] = IsDropped ? (byte)1 : (byte)0;
        Name.AsSpan(0, Math.Min(64, Name.Length)).CopyTo(span[Fixed..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[(Fixed + 64)..], missing);
        MissingValue?.CopyTo(span[(Fixed + 68)..]);
        return bytes;
    }

    /// <summary>Reads what <see cref="Encode"/> wrote.</summary>
    public static CatalogColumn Decode(ReadOnlySpan<byte> span)
    {
        if (span.Length < Fixed + 68) throw new ArgumentException($"a column definition entry of {span.Length} bytes is too short", nameof(span));
        var missing = BinaryPrimitives.ReadInt32LittleEndian(span[(Fixed + 64)..]);
        return new CatalogColumn(span[0] != 0,
            BinaryPrimitives.ReadInt16LittleEndian(span[1..]),
            span.Slice(Fixed, 64).ToArray(),
            BinaryPrimitives.ReadUInt32LittleEndian(span[3..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[7..]),
            BinaryPrimitives.ReadInt16LittleEndian(span[11..]),
            span[13] != 0, (char)span[14], (char)span[15], span[16] != 0, span[17] != 0, span[18] != 0,
            (char)span[19], (char)span[20], span[21] != 0,
            missing < 0 ? null : span.Slice(Fixed + 68, missing).ToArray());
    }

    private const int Fixed = 22;

    private static IReadOnlyList<ColumnDescriptor> BuildPgAttributeColumns()
    {
        // attnum, typlen, typalign of each pg_attribute column (PostgreSQL 18).
        (short Length, char Align)[] layout =
        [
            (4, 'i'), (64, 'c'), (4, 'i'), (2, 's'), (2, 's'), (4, 'i'), (2, 's'), (1, 'c'), (1, 'c'), (1, 'c'),
            (1, 'c'), (1, 'c'), (1, 'c'), (1, 'c'), (1, 'c'), (1, 'c'), (1, 'c'), (1, 'c'), (2, 's'), (4, 'i'),
            (2, 's'), (-1, 'd'), (-1, 'i'), (-1, 'i'), (-1, 'd'),
        ];
        var columns = new ColumnDescriptor[layout.Length];
        for (var i = 0; i < layout.Length; i++)
        {
            var (length, align) = layout[i];
            columns[i] = new ColumnDescriptor((short)(i + 1), $"pg_attribute column {i + 1}", 0, -1, length, align, length is > 0 and <= 8 and not 3,
                length == -1 ? 'x' : 'p', false, false, false, null, '\0');
        }

        return columns;
    }
}
