namespace DataSync.Wal.Values;

/// <summary>
/// Arrays (src/include/utils/array.h, arrayfuncs.c array_send), read through <see cref="StoredArray"/>. Sent: dimension
/// count, a has-nulls flag (the bitmap's presence, as the server reports it), element type, (dimension, lower bound)
/// pairs, then every element as a length-prefixed send value (-1 for NULL).
/// </summary>
public static class ArraySendConverter
{
    public static void Write(ValueConverter converter, TypePlan plan, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        var array = new StoredArray(plan, payload);
        output.WriteInt32(array.Dimensions);
        output.WriteInt32(array.HasNulls ? 1 : 0);
        output.WriteUInt32(array.ElementType);
        for (var d = 0; d < array.Dimensions; d++)
        {
            output.WriteInt32(array.Length(d));
            output.WriteInt32(array.LowerBound(d));
        }

        var element = plan.Element!;
        for (var i = 0; i < array.Items; i++)
        {
            if (!array.Next(out var datum))
            {
                output.WriteInt32(-1);
                continue;
            }

            var lengthAt = output.BeginField();
            converter.Write(element, datum, output);
            output.EndField(lengthAt);
        }
    }
}
