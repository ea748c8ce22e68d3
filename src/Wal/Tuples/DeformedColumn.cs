namespace DataSync.Wal.Tuples;

/// <summary>One attribute of a deformed tuple: its kind and, when present, where its bytes lie in
/// the span that was deformed (so no copy is made).</summary>
public readonly record struct DeformedColumn(ColumnValueKind Kind, int Offset, int Length)
{
    public static readonly DeformedColumn Null = new(ColumnValueKind.Null, 0, 0);
    public static readonly DeformedColumn Missing = new(ColumnValueKind.Missing, 0, 0);

    public ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> tuple) => tuple.Slice(Offset, Length);
}
