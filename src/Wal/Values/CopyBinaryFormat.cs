namespace DataSync.Wal.Values;

/// <summary>
/// The COPY BINARY stream (src/backend/commands/copyto.c): an 11-byte signature, a flags word (0: no
/// OIDs), a header-extension length (0), then per row a field count and length-prefixed fields
/// (-1 for NULL), and a -1 field count as trailer. All integers big-endian.
/// </summary>
public static class CopyBinaryFormat
{
    /// <summary>"PGCOPY\n\xFF\r\n\0".</summary>
    public static ReadOnlySpan<byte> Signature => [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00];

    public static void WriteHeader(SendBuffer output)
    {
        output.WriteBytes(Signature);
        output.WriteInt32(0);
        output.WriteInt32(0);
    }

    public static void WriteRow(DecodedRow row, SendBuffer output)
    {
        if (row.HasUnchangedToast)
        {
            var column = Enumerable.Range(0, row.FieldCount).First(i => row.State(i) == FieldState.UnchangedToast);
            throw new InvalidOperationException(
                $"{row.Table.QualifiedName}, column {row.Columns[column].Name}: an unchanged TOAST value has no bytes to copy; the row must be applied as an UPDATE that leaves this column out");
        }

        output.WriteBytes(row.CopyTuple);
    }

    public static void WriteTrailer(SendBuffer output) => output.WriteInt16(-1);
}
