namespace DataSync.Wal.Values;

/// <summary>numeric's send form: digit count, weight, sign, display scale (i16 each), then the
/// base-10000 digits as big-endian i16, exactly as stored (numeric_send).</summary>
public static class NumericSendConverter
{
    public static void Write(NumericValue value, SendBuffer output)
    {
        output.WriteInt16((short)value.DigitCount);
        output.WriteInt16(value.Weight);
        output.WriteUInt16(value.Sign);
        output.WriteInt16(value.DisplayScale);
        for (var i = 0; i < value.DigitCount; i++) output.WriteInt16(value.Digit(i));
    }
}
