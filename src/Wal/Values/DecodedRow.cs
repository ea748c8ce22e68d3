using System.Buffers.Binary;
using DataSync.Wal.Catalog;

namespace DataSync.Wal.Values;

/// <summary>
/// A row image in COPY BINARY terms: per copied column (not dropped, not generated, in attnum
/// order) its state and, for a value, its send-form bytes. Held as one COPY tuple (field count,
/// length-prefixed fields), so a complete row goes into a COPY stream as a single copy. Owns its
/// bytes and never changes, so it can be kept or handed on after the WAL buffer it came from is reused.
/// </summary>
public sealed class DecodedRow
{
    private readonly byte[] _copyTuple;
    // Where each field's bytes start; its length is the four bytes before them (one array per row, not two: a catch-up
    // decodes millions of rows).
    private readonly int[] _offsets;

    internal DecodedRow(TableDescriptor table, IReadOnlyList<ColumnDescriptor> columns, byte[] copyTuple)
    {
        Table = table;
        Columns = columns;
        _copyTuple = copyTuple;
        var count = BinaryPrimitives.ReadInt16BigEndian(copyTuple);
        _offsets = new int[count];
        var position = 2;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(copyTuple.AsSpan(position));
            position += 4;
            _offsets[i] = position;
            if (length > 0) position += length;
            if (length == RowDecoder.UnchangedToastLength) HasUnchangedToast = true;
        }
    }

    public TableDescriptor Table { get; }

    /// <summary>The columns the fields belong to, in order.</summary>
    public IReadOnlyList<ColumnDescriptor> Columns { get; }

    public int FieldCount => _offsets.Length;

    /// <summary>True when some column is <see cref="FieldState.UnchangedToast"/>: the row cannot be
    /// written as a whole (COPY or INSERT); an UPDATE must leave those columns out.</summary>
    public bool HasUnchangedToast { get; }

    /// <summary>The row as one COPY BINARY tuple; only valid COPY input when not <see cref="HasUnchangedToast"/>.</summary>
    public ReadOnlySpan<byte> CopyTuple => _copyTuple;

    public FieldState State(int index) => Length(index) switch
    {
        -1 => FieldState.Null,
        RowDecoder.UnchangedToastLength => FieldState.UnchangedToast,
        _ => FieldState.Value,
    };

    /// <summary>The send-form bytes of a <see cref="FieldState.Value"/> field (empty otherwise).</summary>
    public ReadOnlySpan<byte> Field(int index) =>
        Length(index) is var length && length < 0 ? ReadOnlySpan<byte>.Empty : _copyTuple.AsSpan(_offsets[index], length);

    /// <summary>The field's length prefix: its byte count, -1 for NULL, <see cref="RowDecoder.UnchangedToastLength"/> for unchanged TOAST.</summary>
    private int Length(int index) => BinaryPrimitives.ReadInt32BigEndian(_copyTuple.AsSpan(_offsets[index] - 4));

    /// <summary>
    /// This image with every unchanged-TOAST field taken from <paramref name="earlier"/>, an earlier image
    /// of the same row with the same columns (an update that kept a TOASTed value, after the insert or
    /// update that wrote it). Fields still unknown there stay unchanged TOAST.
    /// </summary>
    public DecodedRow FillUnchangedFrom(DecodedRow earlier)
    {
        if (!HasUnchangedToast) return this;
        if (earlier.FieldCount != FieldCount)
            throw new InvalidOperationException($"{Table.QualifiedName}: row images with {FieldCount} and {earlier.FieldCount} fields cannot be merged");

        var length = 2;
        for (var i = 0; i < FieldCount; i++) length += 4 + Math.Max(0, Source(earlier, i).Length(i));
        var tuple = new byte[length];
        BinaryPrimitives.WriteInt16BigEndian(tuple, (short)FieldCount);
        var position = 2;
        for (var i = 0; i < FieldCount; i++)
        {
            var from = Source(earlier, i);
            var fieldLength = from.Length(i);
            BinaryPrimitives.WriteInt32BigEndian(tuple.AsSpan(position), fieldLength);
            position += 4;
            if (fieldLength <= 0) continue;
            from._copyTuple.AsSpan(from._offsets[i], fieldLength).CopyTo(tuple.AsSpan(position));
            position += fieldLength;
        }

        return new DecodedRow(Table, Columns, tuple);
    }

    private DecodedRow Source(DecodedRow earlier, int index) => Length(index) == RowDecoder.UnchangedToastLength ? earlier : this;

    public int IndexOf(short attNum)
    {
        for (var i = 0; i < Columns.Count; i++)
            if (Columns[i].AttNum == attNum) return i;
        return -1;
    }
}
