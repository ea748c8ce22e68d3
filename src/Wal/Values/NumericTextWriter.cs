namespace DataSync.Wal.Values;

/// <summary>
/// numeric's text output (numeric_out), needed for numbers inside jsonb: the integer part from the
/// digits up to the weight ("0" when there are none), then exactly <c>dscale</c> decimals.
/// </summary>
public static class NumericTextWriter
{
    public static void Write(NumericValue value, SendBuffer output)
    {
        switch (value.Sign)
        {
            case NumericValue.NaN: WriteAscii("NaN", output); return;
            case NumericValue.PositiveInfinity: WriteAscii("Infinity", output); return;
            case NumericValue.NegativeInfinity: WriteAscii("-Infinity", output); return;
            case NumericValue.Negative: output.WriteByte((byte)'-'); break;
        }

        if (value.Weight < 0)
        {
            output.WriteByte((byte)'0');
        }
        else
        {
            for (var d = 0; d <= value.Weight; d++)
            {
                var digit = d < value.DigitCount ? value.Digit(d) : 0;
                if (digit is < 0 or > 9999) throw new DatumFormatException($"numeric: digit {digit} is outside base 10000");
                // The first group is printed without leading zeros, later ones as four digits.
                WriteGroup(digit, d == 0 ? Width(digit) : 4, output);
            }
        }

        if (value.DisplayScale <= 0) return;
        output.WriteByte((byte)'.');
        var remaining = (int)value.DisplayScale;
        Span<byte> group = stackalloc byte[4];
        for (var d = value.Weight + 1; remaining > 0; d++)
        {
            var digit = d >= 0 && d < value.DigitCount ? value.Digit(d) : 0;
            for (var k = 3; k >= 0; k--, digit /= 10) group[k] = (byte)('0' + digit % 10);
            var take = Math.Min(4, remaining);
            output.WriteBytes(group[..take]);
            remaining -= take;
        }
    }

    private static int Width(int digit) => digit >= 1000 ? 4 : digit >= 100 ? 3 : digit >= 10 ? 2 : 1;

    private static void WriteGroup(int digit, int width, SendBuffer output)
    {
        var span = output.Append(width);
        for (var k = width - 1; k >= 0; k--, digit /= 10) span[k] = (byte)('0' + digit % 10);
    }

    private static void WriteAscii(string text, SendBuffer output)
    {
        foreach (var c in text) output.WriteByte((byte)c);
    }
}
