using System.Buffers.Binary;
using DataSync.Wal.Values;

namespace DataSync.Core.Apply;

/// <summary>
/// A row of the temporary staging table in COPY BINARY form: the operation, the LSN of the row's last change,
/// the mask of untouched TOAST columns, the key the row had when the round began, then the row's final image.
/// </summary>
internal static class StagingRow
{
    public const short Delete = 1;
    public const short Update = 2;
    public const short Insert = 3;

    /// <summary>An update that changed the row's key.</summary>
    public const short Move = 4;

    /// <summary>The staging-only columns before the table's own: operation, LSN, mask.</summary>
    public const int MetaColumns = 3;

    /// <summary>Appends one staging row for <paramref name="net"/> to <paramref name="buffer"/>.</summary>
    public static void Write(Stream buffer, short op, NetChange net, int mask, int keyCount, int columnCount)
    {
        Span<byte> scratch = stackalloc byte[8];
        BinaryPrimitives.WriteInt16BigEndian(scratch, (short)(MetaColumns + keyCount + columnCount));
        buffer.Write(scratch[..2]);
        BinaryPrimitives.WriteInt32BigEndian(scratch, 2);
        BinaryPrimitives.WriteInt16BigEndian(scratch[4..], op);
        buffer.Write(scratch[..6]);
        BinaryPrimitives.WriteInt32BigEndian(scratch, 8);
        buffer.Write(scratch[..4]);
        BinaryPrimitives.WriteInt64BigEndian(scratch, (long)net.Lsn.Value);
        buffer.Write(scratch[..8]);
        BinaryPrimitives.WriteInt32BigEndian(scratch, 4);
        BinaryPrimitives.WriteInt32BigEndian(scratch[4..], mask);
        buffer.Write(scratch[..8]);

        // The origin key is already a sequence of length-prefixed fields.
        if (net.OriginKey is { } origin) buffer.Write(origin);
        else for (var i = 0; i < keyCount; i++) WriteNull(buffer, scratch);

        if (net.Row is not { } row)
        {
            for (var i = 0; i < columnCount; i++) WriteNull(buffer, scratch);
        }
        else if (!row.HasUnchangedToast)
        {
            // The image is already the table's fields in COPY form, after its field count.
            buffer.Write(row.CopyTuple[2..]);
        }
        else
        {
            for (var i = 0; i < row.FieldCount; i++)
            {
                if (row.State(i) != FieldState.Value)
                {
                    WriteNull(buffer, scratch); // unchanged TOAST: the column is left out of this row's UPDATE
                    continue;
                }

                var field = row.Field(i);
                BinaryPrimitives.WriteInt32BigEndian(scratch, field.Length);
                buffer.Write(scratch[..4]);
                buffer.Write(field);
            }
        }
    }

    private static void WriteNull(Stream buffer, Span<byte> scratch)
    {
        BinaryPrimitives.WriteInt32BigEndian(scratch, -1);
        buffer.Write(scratch[..4]);
    }
}
