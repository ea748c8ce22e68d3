using System.Globalization;

namespace DataSync.Wal.Values;

/// <summary>
/// An array whose element type has no binary send and receive functions (<see cref="TypePlan.IsText"/>), written in the
/// text form array_in reads (arrayfuncs.c): the bounds as <c>[lower:upper]</c> per dimension followed by <c>=</c> when
/// any lower bound is not 1, then the elements nested in braces by dimension, separated by commas; each element in
/// double quotes with <c>"</c> and <c>\</c> escaped by a backslash, a NULL as the bare word NULL.
/// </summary>
/// <remarks>
/// Quoting every element keeps the writer independent of what the element's text holds (array_out quotes only when
/// needed; array_in takes either). The comma is the delimiter of every type this path serves.
/// </remarks>
public static class ArrayTextWriter
{
    public static void Write(ValueConverter converter, TypePlan plan, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        var array = new StoredArray(plan, payload);
        if (array.Items == 0)
        {
            output.WriteBytes("{}"u8);
            return;
        }

        Span<int> lengths = stackalloc int[StoredArray.MaxDimensions];
        Span<int> counters = stackalloc int[StoredArray.MaxDimensions];
        var shifted = false;
        for (var d = 0; d < array.Dimensions; d++)
        {
            lengths[d] = array.Length(d);
            shifted |= array.LowerBound(d) != 1;
        }

        if (shifted)
        {
            for (var d = 0; d < array.Dimensions; d++)
                WriteAscii(output, string.Create(CultureInfo.InvariantCulture, $"[{array.LowerBound(d)}:{(long)array.LowerBound(d) + lengths[d] - 1}]"));
            output.WriteByte((byte)'=');
        }

        var element = plan.Element!;
        Repeat(output, (byte)'{', array.Dimensions);
        for (var i = 0; i < array.Items; i++)
        {
            if (i > 0)
            {
                // The last subscript varies fastest: each dimension that wraps around closes and reopens its braces.
                var closed = 0;
                var d = array.Dimensions - 1;
                while (++counters[d] == lengths[d])
                {
                    counters[d--] = 0;
                    closed++;
                }

                Repeat(output, (byte)'}', closed);
                output.WriteByte((byte)',');
                Repeat(output, (byte)'{', closed);
            }

            if (!array.Next(out var datum))
            {
                output.WriteBytes("NULL"u8);
                continue;
            }

            output.WriteByte((byte)'"');
            var start = output.Length;
            converter.Write(element, datum, output);
            Escape(output, start);
            output.WriteByte((byte)'"');
        }

        Repeat(output, (byte)'}', array.Dimensions);
    }

    /// <summary>Puts a backslash before every <c>"</c> and <c>\</c> written since <paramref name="start"/>.</summary>
    private static void Escape(SendBuffer output, int start)
    {
        var text = output.WrittenSpan[start..];
        var specials = text.Count((byte)'"') + text.Count((byte)'\\');
        if (specials == 0) return;
        var original = text.ToArray();
        output.Truncate(start);
        foreach (var b in original)
        {
            if (b is (byte)'"' or (byte)'\\') output.WriteByte((byte)'\\');
            output.WriteByte(b);
        }
    }

    private static void Repeat(SendBuffer output, byte value, int count) => output.Append(count).Fill(value);

    private static void WriteAscii(SendBuffer output, string text) =>
        System.Text.Encoding.ASCII.GetBytes(text, output.Append(text.Length));
}
