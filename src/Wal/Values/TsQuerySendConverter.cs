using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// tsquery (src/include/tsearch/ts_type.h, tsquery.c). Stored: the item count, the items in prefix order,
/// 12 bytes each, then the operand strings, each NUL-terminated. An operand item: type 1, weight bits,
/// prefix flag, a CRC of the word, and a 32-bit word whose bits 12–31 are the string's offset in the
/// string area. An operator item: type 2, the operator (1 NOT, 2 AND, 3 OR, 4 phrase), the phrase distance
/// (16 bits), and the offset of its left operand. Sent: the count, then per item its type and, for an
/// operand, weight, prefix flag and the NUL-terminated word; for an operator, the operator and, for a
/// phrase, the distance.
/// </summary>
public static class TsQuerySendConverter
{
    private const int ItemSize = 12;
    private const byte Operand = 1;
    private const byte Operator = 2;
    private const byte Phrase = 4;

    public static void Write(ValueConverter converter, string typeName, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 4) throw Corrupt(typeName, $"a value of {payload.Length} bytes lacks its item count");
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (count < 0 || count > (payload.Length - 4) / ItemSize) throw Corrupt(typeName, $"{count} items do not fit {payload.Length} bytes");
        var operands = payload[(4 + ItemSize * count)..];
        output.WriteInt32(count);
        for (var i = 0; i < count; i++)
        {
            var item = payload.Slice(4 + ItemSize * i, ItemSize);
            output.WriteByte(item[0]);
            switch (item[0])
            {
                case Operand:
                    output.WriteByte(item[1]);
                    output.WriteByte(item[2]);
                    var offset = (int)(BinaryPrimitives.ReadUInt32LittleEndian(item[8..]) >> 12);
                    if (offset >= operands.Length) throw Corrupt(typeName, $"item {i + 1}'s word at {offset} starts past the value");
                    var end = operands[offset..].IndexOf((byte)0);
                    if (end < 0) throw Corrupt(typeName, $"item {i + 1}'s word is not NUL-terminated");
                    converter.WriteText(operands.Slice(offset, end), output);
                    output.WriteByte(0);
                    break;
                case Operator:
                    output.WriteByte(item[1]);
                    if (item[1] == Phrase) output.WriteInt16(BinaryPrimitives.ReadInt16LittleEndian(item[2..]));
                    break;
                default:
                    throw Corrupt(typeName, $"item {i + 1} has type {item[0]}");
            }
        }
    }

    private static DatumFormatException Corrupt(string typeName, string what) => new($"{typeName}: {what}");
}
