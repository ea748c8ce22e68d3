using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// The types of the extension isn (ean13, isbn13, ismn13, issn13, isbn, ismn, issn, upc; contrib/isn/isn.c, isn.h), which
/// have no binary send and receive functions: their values are written as text their input functions take back to the
/// same stored value. Stored: one 64-bit integer (like int8), the 13-digit EAN number shifted left by one, its lowest bit
/// set when the number was entered with a wrong check digit (accepted under <c>isn.weak</c>, or marked with a trailing
/// <c>!</c>). The stored number always carries the correct EAN-13 check digit: the input function replaces a wrong one
/// and keeps only the flag.
/// </summary>
/// <remarks>
/// Written: the 13 digits, zero-padded, then <c>!</c> when the flag is set. Every isn input function reads a 13-digit
/// number of its own kind (an isbn13 column holds only 978/979 numbers, an issn column only 977 ones, and so on), and a
/// trailing <c>!</c> sets the flag without needing <c>isn.weak</c>. The types' own output is not used as the model: for
/// issn and upc it drops the flag, and for issn the two issue digits, so it does not always read back to the same value.
/// </remarks>
public static class IsnTextWriter
{
    /// <summary>The largest number of 13 digits: the input function stores nothing above it.</summary>
    private const ulong LargestNumber = 9_999_999_999_999;

    private const int Digits = 13;

    public static void Write(string type, ReadOnlySpan<byte> datum, SendBuffer output)
    {
        if (datum.Length != 8) throw new DatumFormatException($"{type}: a value has {datum.Length} bytes, not 8");
        var stored = BinaryPrimitives.ReadUInt64LittleEndian(datum);
        var number = stored >> 1;
        if (number > LargestNumber) throw new DatumFormatException($"{type}: stored number {number} has more than {Digits} digits");

        var digits = output.Append(Digits);
        for (var i = Digits - 1; i >= 0; i--)
        {
            digits[i] = (byte)('0' + (int)(number % 10));
            number /= 10;
        }

        // A wrong check digit cannot have come from the input function, and written back it would be replaced (or refused).
        if (digits[Digits - 1] - '0' != CheckDigit(digits))
            throw new DatumFormatException($"{type}: stored number {System.Text.Encoding.ASCII.GetString(digits)} does not end in its EAN-13 check digit");
        if ((stored & 1) != 0) output.WriteByte((byte)'!');
    }

    /// <summary>The EAN-13 check digit of the first 12 of <paramref name="digits"/>: weights 1 and 3 alternating from the left.</summary>
    private static int CheckDigit(ReadOnlySpan<byte> digits)
    {
        var sum = 0;
        for (var i = 0; i < Digits - 1; i++) sum += (digits[i] - '0') * (i % 2 == 0 ? 1 : 3);
        return (10 - sum % 10) % 10;
    }
}
