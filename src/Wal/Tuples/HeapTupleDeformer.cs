using DataSync.Wal.Catalog;
using DataSync.Wal.Toast;

namespace DataSync.Wal.Tuples;

/// <summary>
/// Splits a heap tuple into its attributes (src/backend/access/common/heaptuple.c, heap_deform_tuple):
/// NULLs from the bitmap, alignment of each present value relative to the tuple start, varlenas
/// with 1-byte headers left unaligned, dropped columns walked like any other, and attributes the
/// tuple is too old to have reported as missing.
/// </summary>
/// <remarks>
/// Nothing is copied: each <see cref="DeformedColumn"/> points into the span passed in. The WAL form
/// lacks the first 23 bytes of the on-page tuple, so positions are computed on the on-page tuple
/// and shifted into the span; alignment is only meaningful on those tuple positions.
/// </remarks>
public static class HeapTupleDeformer
{
    /// <summary>Deforms a tuple as WAL carries it: <c>xl_heap_header</c> then the tuple from byte 23.</summary>
    public static HeapTupleHeader DeformWal(ReadOnlySpan<byte> walTuple, TableDescriptor table, Span<DeformedColumn> columns) =>
        DeformWal(walTuple, table.Columns, table.QualifiedName, columns);

    /// <summary>Deforms a whole on-page tuple (<c>HeapTupleHeaderData</c> first).</summary>
    public static HeapTupleHeader DeformPage(ReadOnlySpan<byte> pageTuple, TableDescriptor table, Span<DeformedColumn> columns) =>
        DeformPage(pageTuple, table.Columns, table.QualifiedName, columns);

    /// <summary>
    /// Deforms a tuple whose header fields were carried separately, as MULTI_INSERT's
    /// <c>xl_multi_insert_tuple</c> does: <paramref name="tupleFromByte23"/> is the tuple from its
    /// byte 23 on (bitmap, padding, data), and column offsets index into it.
    /// </summary>
    public static void Deform(HeapTupleHeader header, ReadOnlySpan<byte> tupleFromByte23, TableDescriptor table, Span<DeformedColumn> columns) =>
        Deform(header, tupleFromByte23, table.Columns, table.QualifiedName, columns);

    public static void Deform(HeapTupleHeader header, ReadOnlySpan<byte> tupleFromByte23, IReadOnlyList<ColumnDescriptor> attributes, string relation, Span<DeformedColumn> columns) =>
        Walk(tupleFromByte23, -HeapTupleHeader.PageHeaderSize, header, attributes, relation, columns);

    public static HeapTupleHeader DeformWal(ReadOnlySpan<byte> walTuple, IReadOnlyList<ColumnDescriptor> attributes, string relation, Span<DeformedColumn> columns)
    {
        var header = HeapTupleHeader.ReadWal(walTuple);
        Walk(walTuple, HeapTupleHeader.WalHeaderSize - HeapTupleHeader.PageHeaderSize, header, attributes, relation, columns);
        return header;
    }

    public static HeapTupleHeader DeformPage(ReadOnlySpan<byte> pageTuple, IReadOnlyList<ColumnDescriptor> attributes, string relation, Span<DeformedColumn> columns)
    {
        var header = HeapTupleHeader.ReadPage(pageTuple);
        Walk(pageTuple, 0, header, attributes, relation, columns);
        return header;
    }

    /// <summary>
    /// Deforms a stored composite value: <paramref name="payload"/> is the varlena's bytes after its 4-byte header,
    /// a tuple header (typmod and type OID where a heap tuple has its transaction fields) then the fields, laid out
    /// as in a heap tuple with positions counted from the varlena header.
    /// </summary>
    public static HeapTupleHeader DeformDatum(ReadOnlySpan<byte> payload, IReadOnlyList<ColumnDescriptor> attributes, string type, Span<DeformedColumn> columns)
    {
        const int varlenaHeader = 4;
        if (payload.Length < HeapTupleHeader.PageHeaderSize - varlenaHeader)
            throw new TupleFormatException($"{type}: a composite value of {payload.Length} bytes is shorter than its tuple header");
        var header = new HeapTupleHeader(
            System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(payload[(18 - varlenaHeader)..]),
            System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(payload[(20 - varlenaHeader)..]),
            payload[22 - varlenaHeader]);
        Walk(payload, -varlenaHeader, header, attributes, type, columns);
        return header;
    }

    /// <param name="shift">Added to a position in the on-page tuple to get the index in <paramref name="bytes"/>.</param>
    private static void Walk(ReadOnlySpan<byte> bytes, int shift, HeapTupleHeader header,
        IReadOnlyList<ColumnDescriptor> attributes, string relation, Span<DeformedColumn> columns)
    {
        if (columns.Length < attributes.Count)
            throw new ArgumentException($"room for {columns.Length} columns, {relation} has {attributes.Count}", nameof(columns));

        var natts = header.Natts;
        if (natts > attributes.Count)
            throw new TupleFormatException($"{relation}: tuple has {natts} attributes but the table descriptor only {attributes.Count}; the descriptor is older than the tuple");

        var tupleEnd = bytes.Length - shift;
        int bitmapBytes = header.HasNulls ? (natts + 7) / 8 : 0;
        if (header.Hoff < HeapTupleHeader.PageHeaderSize + bitmapBytes || header.Hoff > tupleEnd)
            throw new TupleFormatException($"{relation}: t_hoff {header.Hoff} does not fit a {natts}-attribute tuple of {tupleEnd} bytes");
        var bitmap = bytes.Slice(HeapTupleHeader.PageHeaderSize + shift, bitmapBytes);

        var position = (int)header.Hoff;
        for (var i = 0; i < attributes.Count; i++)
        {
            var attribute = attributes[i];
            if (i >= natts)
            {
                columns[i] = attribute.HasMissing ? DeformedColumn.Missing : DeformedColumn.Null;
                continue;
            }

            if (header.HasNulls && (bitmap[i >> 3] & (1 << (i & 7))) == 0)
            {
                columns[i] = DeformedColumn.Null;
                continue;
            }

            int length;
            if (attribute.Length > 0)
            {
                position = TypeAlignment.Align(position, attribute.AlignmentBytes);
                length = attribute.Length;
            }
            else if (attribute.Length == -1)
            {
                // A non-zero byte here is a 1-byte header, stored without alignment; a zero byte is
                // padding in front of an aligned 4-byte header.
                if (position >= tupleEnd || bytes[position + shift] == 0)
                    position = TypeAlignment.Align(position, attribute.AlignmentBytes);
                if (position >= tupleEnd)
                    throw Overrun(relation, attribute, position, 1, tupleEnd);
                try
                {
                    length = Varlena.TotalSize(bytes[(position + shift)..]);
                }
                catch (VarlenaFormatException e)
                {
                    throw new TupleFormatException($"{relation}, column {attribute.Name} (attnum {attribute.AttNum}) at tuple offset {position}: {e.Message}");
                }
            }
            else if (attribute.Length == -2)
            {
                position = TypeAlignment.Align(position, attribute.AlignmentBytes);
                var terminator = position < tupleEnd ? bytes[(position + shift)..].IndexOf((byte)0) : -1;
                if (terminator < 0) throw Overrun(relation, attribute, position, 1, tupleEnd);
                length = terminator + 1;
            }
            else
            {
                throw new TupleFormatException($"{relation}, column {attribute.Name}: attlen {attribute.Length} is not a valid length");
            }

            if (position + length > tupleEnd) throw Overrun(relation, attribute, position, length, tupleEnd);
            columns[i] = new DeformedColumn(ColumnValueKind.Present, position + shift, length);
            position += length;
        }
    }

    private static TupleFormatException Overrun(string relation, ColumnDescriptor attribute, int position, int length, int tupleEnd) =>
        new($"{relation}, column {attribute.Name} (attnum {attribute.AttNum}): {length} bytes at tuple offset {position} run past the tuple end {tupleEnd}");
}
