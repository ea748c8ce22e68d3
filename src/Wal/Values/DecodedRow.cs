using DataSync.Wal.Catalog;

namespace DataSync.Wal.Values;

/// <summary>
/// A row image in COPY BINARY terms: per copied column (not dropped, not generated, in attnum
/// order) its state and, for a value, its send-form bytes. Owns its bytes and never changes, so it
/// can be kept or handed on after the WAL buffer it came from is reused.
/// </summary>
public sealed class DecodedRow
{
    private const int NullLength = -1;
    private const int UnchangedLength = -2;

    private readonly byte[] _data;
    private readonly int[] _offsets;
    private readonly int[] _lengths;

    internal DecodedRow(TableDescriptor table, IReadOnlyList<ColumnDescriptor> columns, byte[] data, int[] offsets, int[] lengths)
    {
        Table = table;
        Columns = columns;
        _data = data;
        _offsets = offsets;
        _lengths = lengths;
        HasUnchangedToast = Array.IndexOf(lengths, UnchangedLength) >= 0;
    }

    public TableDescriptor Table { get; }

    /// <summary>The columns the fields belong to, in order.</summary>
    public IReadOnlyList<ColumnDescriptor> Columns { get; }

    public int FieldCount => _lengths.Length;

    /// <summary>True when some column is <see cref="FieldState.UnchangedToast"/>: the row cannot be
    /// written as a whole (COPY or INSERT); an UPDATE must leave those columns out.</summary>
    public bool HasUnchangedToast { get; }

    public FieldState State(int index) => _lengths[index] switch
    {
        NullLength => FieldState.Null,
        UnchangedLength => FieldState.UnchangedToast,
        _ => FieldState.Value,
    };

    /// <summary>The send-form bytes of a <see cref="FieldState.Value"/> field (empty otherwise).</summary>
    public ReadOnlySpan<byte> Field(int index) =>
        _lengths[index] < 0 ? ReadOnlySpan<byte>.Empty : _data.AsSpan(_offsets[index], _lengths[index]);

    public int IndexOf(short attNum)
    {
        for (var i = 0; i < Columns.Count; i++)
            if (Columns[i].AttNum == attNum) return i;
        return -1;
    }
}
