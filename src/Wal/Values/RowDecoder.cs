using DataSync.Wal.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Tuples;

namespace DataSync.Wal.Values;

/// <summary>
/// Decodes heap tuples of one table into <see cref="DecodedRow"/>s: deform, detoast, convert each
/// copied column to its send form. Plans every column type up front, so an unsupported type fails
/// at construction, naming the column.
/// </summary>
/// <remarks>Holds scratch buffers: one instance per thread (one per table applier or decoder).</remarks>
public sealed class RowDecoder
{
    private readonly ValueConverter _converter;
    private readonly TypePlan?[] _plans;
    private readonly DeformedColumn[] _deformed;
    private readonly SendBuffer _scratch = new(1024);
    private readonly ColumnDescriptor[] _copied;

    public RowDecoder(TableDescriptor table, ValueConverter converter)
    {
        Table = table;
        _converter = converter;
        _deformed = new DeformedColumn[table.Columns.Count];
        _copied = table.CopiedColumns.ToArray();
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

    /// <summary>Decodes a tuple as WAL carries it (<c>xl_heap_header</c> + tuple from byte 23).</summary>
    public DecodedRow DecodeWal(ReadOnlySpan<byte> walTuple, ToastChunkStore? toast)
    {
        HeapTupleDeformer.DeformWal(walTuple, Table, _deformed);
        return Convert(walTuple, toast);
    }

    /// <summary>Decodes a tuple whose header fields came separately (MULTI_INSERT): the bytes are the
    /// tuple from its byte 23 on.</summary>
    public DecodedRow Decode(HeapTupleHeader header, ReadOnlySpan<byte> tupleFromByte23, ToastChunkStore? toast)
    {
        HeapTupleDeformer.Deform(header, tupleFromByte23, Table, _deformed);
        return Convert(tupleFromByte23, toast);
    }

    /// <summary>Decodes a whole on-page tuple.</summary>
    public DecodedRow DecodePage(ReadOnlySpan<byte> pageTuple, ToastChunkStore? toast)
    {
        HeapTupleDeformer.DeformPage(pageTuple, Table, _deformed);
        return Convert(pageTuple, toast);
    }

    private DecodedRow Convert(ReadOnlySpan<byte> tuple, ToastChunkStore? toast)
    {
        _scratch.Clear();
        var offsets = new int[_copied.Length];
        var lengths = new int[_copied.Length];
        for (var i = 0; i < _copied.Length; i++)
        {
            var column = _copied[i];
            var deformed = _deformed[column.AttNum - 1];
            offsets[i] = _scratch.Length;
            switch (deformed.Kind)
            {
                case ColumnValueKind.Null:
                    lengths[i] = -1;
                    continue;
                case ColumnValueKind.Missing:
                    if (column.MissingValue is null)
                    {
                        lengths[i] = -1;
                        continue;
                    }

                    _scratch.WriteBytes(column.MissingValue);
                    lengths[i] = column.MissingValue.Length;
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
                        lengths[i] = -2;
                        continue;
                    }

                    _converter.Write(plan, payload, _scratch);
                }
                else
                {
                    _converter.Write(plan, stored, _scratch);
                }
            }
            catch (Exception e) when (e is DatumFormatException or VarlenaFormatException)
            {
                throw new DatumFormatException($"{Table.QualifiedName}, column {column.Name} ({plan.Name}): {e.Message}");
            }

            lengths[i] = _scratch.Length - offsets[i];
        }

        return new DecodedRow(Table, _copied, _scratch.ToArray(), offsets, lengths);
    }
}
