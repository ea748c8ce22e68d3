using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// A stored numeric read into its parts (src/backend/utils/adt/numeric.c, NumericData): base-10000
/// digits, the weight of the first digit, sign and display scale. The digits stay in the stored
/// bytes (little-endian i16 each).
/// </summary>
/// <remarks>
/// Three header layouts share the first 16-bit word: short (top bits 10: sign, 6-bit dscale and
/// 7-bit weight packed in that word), long (top bits 00 or 01: sign and dscale in it, an i16 weight
/// after it) and special (top bits 11: NaN, +Infinity or -Infinity, no digits). The fields are
/// taken the way the server's own macros take them, including for the special values, so that the
/// send form comes out byte for byte as the server's.
/// </remarks>
public readonly ref struct NumericValue
{
    public const ushort Positive = 0x0000;
    public const ushort Negative = 0x4000;
    public const ushort NaN = 0xC000;
    public const ushort PositiveInfinity = 0xD000;
    public const ushort NegativeInfinity = 0xF000;

    public NumericValue(ushort sign, short weight, short displayScale, ReadOnlySpan<byte> digits)
    {
        Sign = sign;
        Weight = weight;
        DisplayScale = displayScale;
        Digits = digits;
    }

    /// <summary>One of <see cref="Positive"/>, <see cref="Negative"/>, <see cref="NaN"/>,
    /// <see cref="PositiveInfinity"/>, <see cref="NegativeInfinity"/>.</summary>
    public ushort Sign { get; }

    /// <summary>Power of 10000 of the first digit.</summary>
    public short Weight { get; }

    public short DisplayScale { get; }

    /// <summary>Stored digits, two little-endian bytes each.</summary>
    public ReadOnlySpan<byte> Digits { get; }

    public int DigitCount => Digits.Length / 2;

    public bool IsSpecial => (Sign & 0xC000) == 0xC000;

    public short Digit(int index) => BinaryPrimitives.ReadInt16LittleEndian(Digits[(index * 2)..]);

    /// <summary>Reads a numeric from its varlena payload.</summary>
    public static NumericValue Read(ReadOnlySpan<byte> payload, string typeName = "numeric")
    {
        if (payload.Length < 2) throw new DatumFormatException($"{typeName}: a value of {payload.Length} bytes has no header");
        var header = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        var isShortHeader = (header & 0x8000) != 0;
        var headerSize = isShortHeader ? 2 : 4;
        if (payload.Length < headerSize || (payload.Length - headerSize) % 2 != 0)
            throw new DatumFormatException($"{typeName}: a value of {payload.Length} bytes does not hold whole digits");

        ushort sign;
        short weight;
        short displayScale;
        if (isShortHeader)
        {
            sign = (header & 0xC000) == 0xC000
                ? (ushort)(header & 0xF000)
                : (header & 0x2000) != 0 ? Negative : Positive;
            // The 7-bit weight is two's complement: bit 6 is its sign.
            weight = (short)((header & 0x0040) != 0 ? (header & 0x003F) | ~0x003F : header & 0x003F);
            displayScale = (short)((header & 0x1F80) >> 7);
        }
        else
        {
            sign = (ushort)(header & 0xC000);
            weight = BinaryPrimitives.ReadInt16LittleEndian(payload[2..]);
            displayScale = (short)(header & 0x3FFF);
        }

        return new NumericValue(sign, weight, displayScale, payload[headerSize..]);
    }
}
