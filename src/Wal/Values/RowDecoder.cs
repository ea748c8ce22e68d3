using DataSync.Wal.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Tuples;
using DataSync.Wal.Typed;

namespace DataSync.Wal.Values;

/// <summary>
/// Decodes heap tuples of one table into COPY BINARY tuples: deform, detoast, convert each copied
/// column to its send form. Plans every column type up front, so an unsupported type fails at
/// construction, naming the column.
/// </summary>
/// <remarks>
/// Two ways out: <see cref="DecodedRow"/>s (owned, for changes that are kept or applied one by one)
/// and <c>TryWriteCopyRow…</c>, which appends straight to a COPY stream being built, with no
/// allocation per row. Holds scratch buffers: one instance per thread (one per table applier or decoder).
/// </remarks>
public sealed class RowDecoder
{
    /// <summary>The length written for an unchanged TOAST field: not valid in COPY, so such a tuple
    /// can never be sent by mistake; <see cref="DecodedRow"/> reads it as <see cref="FieldState.UnchangedToast"/>.</summary>
    internal const int UnchangedToastLength = -2;

    private readonly ValueConverter _converter;
    private readonly TypePlan?[] _plans;
    private readonly DeformedColumn[] _deformed;
    private readonly SendBuffer _scratch = new(1024);
    private readonly ColumnDescriptor[] _copied;
    // Named in the deformer's errors only, but a descriptor makes the name anew at each ask: made once here, not per row.
    private readonly string _relation;

    public RowDecoder(TableDescriptor table, ValueConverter converter)
    {
        Table = table;
        _relation = table.QualifiedName;
        _converter = converter;
        _deformed = new DeformedColumn[table.Columns.Count];
        _copied = table.RowColumns.ToArray();
        _plans = new TypePlan?[table.Columns.Count];
        foreach (var column in _copied)
        {
            try
            {
                _plans[column.AttNum - 1] = converter.PlanFor(column.TypeOid);
            }
            catch (UnsupportedTypeException e)
            {
                throw new UnsupportedTypeException($"{table.QualifiedName}, column {column.Name}: {e.Message}");
            }
        }
    }

    public TableDescriptor Table { get; }

    /// <summary>The columns of every row, in order: not dropped, not generated (a partition's in its synced table's order).</summary>
    public IReadOnlyList<ColumnDescriptor> Columns => _copied;

    /// <summary>Decodes a tuple as WAL carries it (<c>xl_heap_header</c> + tuple from byte 23).</summary>
    public DecodedRow DecodeWal(ReadOnlySpan<byte> walTuple, ToastChunkStore? toast)
    {
        HeapTupleDeformer.DeformWal(walTuple, Table.Columns, _relation, _deformed);
        return ToRow(walTuple, toast);
    }

    /// <summary>Decodes a tuple whose header fields came separately (MULTI_INSERT): the bytes are the
    /// tuple from its byte 23 on.</summary>
    public DecodedRow Decode(HeapTupleHeader header, ReadOnlySpan<byte> tupleFromByte23, ToastChunkStore? toast)
    {
        HeapTupleDeformer.Deform(header, tupleFromByte23, Table.Columns, _relation, _deformed);
        return ToRow(tupleFromByte23, toast);
    }

    /// <summary>Decodes a tuple taken from a parsed heap record (INSERT, UPDATE, DELETE, MULTI_INSERT).</summary>
    public DecodedRow Decode(HeapTupleImage tuple, ToastChunkStore? toast) =>
        Decode(new HeapTupleHeader(tuple.Infomask2, tuple.Infomask, tuple.Hoff), tuple.Body, toast);

    /// <summary>Decodes a whole on-page tuple.</summary>
    public DecodedRow DecodePage(ReadOnlySpan<byte> pageTuple, ToastChunkStore? toast)
    {
        HeapTupleDeformer.DeformPage(pageTuple, Table.Columns, _relation, _deformed);
        return ToRow(pageTuple, toast);
    }

    /// <summary>Appends a WAL-form tuple to <paramref name="copyStream"/> as one COPY BINARY tuple.
    /// False, with nothing appended, when a column is unchanged TOAST (the row cannot be copied).</summary>
    public bool TryWriteCopyRowWal(ReadOnlySpan<byte> walTuple, ToastChunkStore? toast, SendBuffer copyStream)
    {
        HeapTupleDeformer.DeformWal(walTuple, Table.Columns, _relation, _deformed);
        return TryAppend(walTuple, toast, copyStream);
    }

    /// <summary>As <see cref="TryWriteCopyRowWal"/> for a tuple whose header came separately (MULTI_INSERT).</summary>
    public bool TryWriteCopyRow(HeapTupleHeader header, ReadOnlySpan<byte> tupleFromByte23, ToastChunkStore? toast, SendBuffer copyStream)
    {
        HeapTupleDeformer.Deform(header, tupleFromByte23, Table.Columns, _relation, _deformed);
        return TryAppend(tupleFromByte23, toast, copyStream);
    }

    /// <summary>As <see cref="TryWriteCopyRowWal"/> for a tuple taken from a parsed heap record.</summary>
    public bool TryWriteCopyRow(HeapTupleImage tuple, ToastChunkStore? toast, SendBuffer copyStream) =>
        TryWriteCopyRow(new HeapTupleHeader(tuple.Infomask2, tuple.Infomask, tuple.Hoff), tuple.Body, toast, copyStream);

    private bool TryAppend(ReadOnlySpan<byte> tuple, ToastChunkStore? toast, SendBuffer copyStream)
    {
        var start = copyStream.Length;
        if (WriteTuple(tuple, toast, copyStream)) return true;
        copyStream.Truncate(start);
        return false;
    }

    private DecodedRow ToRow(ReadOnlySpan<byte> tuple, ToastChunkStore? toast)
    {
        _scratch.Clear();
        WriteTuple(tuple, toast, _scratch);
        return new DecodedRow(Table, _copied, _scratch.ToArray());
    }

    /// <summary>Writes the field count and every copied column as a length-prefixed send value
    /// (-1 NULL, <see cref="UnchangedToastLength"/> unchanged TOAST). False if any was unchanged TOAST.</summary>
    private bool WriteTuple(ReadOnlySpan<byte> tuple, ToastChunkStore? toast, SendBuffer output)
    {
        var complete = true;
        output.WriteInt16((short)_copied.Length);
        foreach (var column in _copied)
        {
            var deformed = _deformed[column.AttNum - 1];
            switch (deformed.Kind)
            {
                case ColumnValueKind.Null:
                    output.WriteInt32(-1);
                    continue;
                case ColumnValueKind.Missing:
                    if (column.MissingValue is null)
                    {
                        output.WriteInt32(-1);
                    }
                    else
                    {
                        output.WriteInt32(column.MissingValue.Length);
                        output.WriteBytes(column.MissingValue);
                    }

                    continue;
            }

            var plan = _plans[column.AttNum - 1]!;
            try
            {
                var stored = deformed.Slice(tuple);
                if (column.IsVarlena)
                {
                    if (!Detoaster.TryGetPayload(stored, toast, out var payload))
                    {
                        output.WriteInt32(UnchangedToastLength);
                        complete = false;
                        continue;
                    }

                    var lengthAt = output.BeginField();
                    _converter.Write(plan, payload, output);
                    output.EndField(lengthAt);
                }
                else
                {
                    var lengthAt = output.BeginField();
                    _converter.Write(plan, stored, output);
                    output.EndField(lengthAt);
                }
            }
            catch (Exception e) when (e is DatumFormatException or VarlenaFormatException)
            {
                throw new DatumFormatException($"{Table.QualifiedName}, column {column.Name} ({plan.Name}): {e.Message}");
            }
        }

        return complete;
    }
}
