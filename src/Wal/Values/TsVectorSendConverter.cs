using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// tsvector (src/include/tsearch/ts_type.h, tsvector.c). Stored: the lexeme count, one 32-bit entry per
/// lexeme (bit 0: has positions; bits 1–11: the lexeme's length; bits 12–31: its offset in the string
/// area), then the string area. A lexeme's bytes are not NUL-terminated; when it has positions, a 16-bit
/// count and that many 16-bit positions (weight in the top two bits) follow it at the next even offset of
/// the string area. Sent: the count, then per lexeme its text, a NUL, the position count and the positions.
/// </summary>
public static class TsVectorSendConverter
{
    public static void Write(ValueConverter converter, string typeName, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 4) throw Corrupt(typeName, $"a value of {payload.Length} bytes lacks its lexeme count");
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (count < 0 || count > (payload.Length - 4) / 4) throw Corrupt(typeName, $"{count} lexemes do not fit {payload.Length} bytes");
        var strings = payload[(4 + 4 * count)..];
        output.WriteInt32(count);
        for (var i = 0; i < count; i++)
        {
            var entry = BinaryPrimitives.ReadUInt32LittleEndian(payload[(4 + 4 * i)..]);
            var hasPositions = (entry & 1) != 0;
            var length = (int)((entry >> 1) & 0x7FF);
            var offset = (int)(entry >> 12);
            if (offset + length > strings.Length) throw Corrupt(typeName, $"lexeme {i + 1} at {offset}+{length} runs past the value");
            converter.WriteText(strings.Slice(offset, length), output);
            output.WriteByte(0);
            if (!hasPositions)
            {
                output.WriteUInt16(0);
                continue;
            }

            var at = (offset + length + 1) & ~1;
            if (at + 2 > strings.Length) throw Corrupt(typeName, $"lexeme {i + 1}'s position count runs past the value");
            var positions = BinaryPrimitives.ReadUInt16LittleEndian(strings[at..]);
            if (at + 2 + 2 * positions > strings.Length) throw Corrupt(typeName, $"lexeme {i + 1}'s {positions} positions run past the value");
            output.WriteUInt16(positions);
            for (var p = 0; p < positions; p++)
                output.WriteUInt16(BinaryPrimitives.ReadUInt16LittleEndian(strings[(at + 2 + 2 * p)..]));
        }
    }

    private static DatumFormatException Corrupt(string typeName, string what) => new($"{typeName}: {what}");
}
