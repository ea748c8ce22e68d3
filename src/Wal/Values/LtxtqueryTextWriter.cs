using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// ltxtquery, of the extension ltree (contrib/ltree/ltree.h, ltxtquery_io.c ltxtq_send). Stored: the item count, then
/// from offset 8 of the varlena the items in prefix order, 12 bytes each (type: 2 operand, 3 operator; the
/// operator's character or the operand's hash; flags 0x01 <c>*</c>, 0x02 <c>@</c>, 0x04 <c>%</c>; the operand's
/// length and its offset among the operand strings), then the operand strings, each NUL-terminated. Sent: the format
/// version 1, then the query printed infix as the server prints it: a binary operator's left operand first, an
/// <c>|</c> in parentheses unless it is outermost (or directly under <c>!</c>), <c>!</c> before an operator in
/// parentheses.
/// </summary>
public static class LtxtqueryTextWriter
{
    private const int HeaderSize = 4;
    private const int ItemsAt = 8 - HeaderSize;
    private const int ItemSize = 12;
    private const short Operand = 2;
    private const short Operator = 3;
    private const byte AnyEnd = 0x01;
    private const byte CaseInsensitive = 0x02;
    private const byte Sublexeme = 0x04;

    public static void Write(ValueConverter converter, string type, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 4) throw Corrupt(type, $"a value of {payload.Length} bytes lacks its item count");
        var size = BinaryPrimitives.ReadInt32LittleEndian(payload);
        if (size <= 0 || ItemsAt + (long)size * ItemSize > payload.Length) throw Corrupt(type, $"{size} items do not fit {payload.Length} bytes");
        var query = new Query(converter, type, payload.Slice(ItemsAt, size * ItemSize), payload[(ItemsAt + size * ItemSize)..]);
        output.WriteByte(1);
        var next = 0;
        Print(query, ref next, true, output, 0);
        if (next != size) throw Corrupt(type, $"the items end after {next} of {size}");
    }

    private readonly ref struct Query(ValueConverter converter, string type, ReadOnlySpan<byte> items, ReadOnlySpan<byte> operands)
    {
        public ValueConverter Converter { get; } = converter;
        public string Type { get; } = type;
        public ReadOnlySpan<byte> Items { get; } = items;
        public ReadOnlySpan<byte> Operands { get; } = operands;
        public int Count => Items.Length / ItemSize;
    }

    private static void Print(Query query, ref int next, bool first, SendBuffer output, int depth)
    {
        if (depth > 1000) throw Corrupt(query.Type, "operators nest too deeply");
        if (next >= query.Count) throw Corrupt(query.Type, "an operator lacks an operand");
        var item = query.Items.Slice(next * ItemSize, ItemSize);
        var kind = BinaryPrimitives.ReadInt16LittleEndian(item);
        var value = BinaryPrimitives.ReadInt32LittleEndian(item[4..]);
        next++;
        if (kind == Operand)
        {
            var flags = item[8];
            int distance = BinaryPrimitives.ReadUInt16LittleEndian(item[10..]);
            if (distance >= query.Operands.Length) throw Corrupt(query.Type, $"an operand at {distance} is outside the operand strings");
            var text = query.Operands[distance..];
            var end = text.IndexOf((byte)0);
            query.Converter.WriteText(end < 0 ? text : text[..end], output);
            if ((flags & Sublexeme) != 0) output.WriteByte((byte)'%');
            if ((flags & CaseInsensitive) != 0) output.WriteByte((byte)'@');
            if ((flags & AnyEnd) != 0) output.WriteByte((byte)'*');
            return;
        }

        if (kind != Operator) throw Corrupt(query.Type, $"item type {kind}");
        if (value == '!')
        {
            output.WriteByte((byte)'!');
            var operatorFollows = next < query.Count && BinaryPrimitives.ReadInt16LittleEndian(query.Items[(next * ItemSize)..]) == Operator;
            if (operatorFollows) Ascii("( ", output);
            Print(query, ref next, operatorFollows, output, depth + 1);
            if (operatorFollows) Ascii(" )", output);
            return;
        }

        if (value is not ('&' or '|')) throw Corrupt(query.Type, $"operator {value}");
        var parenthesised = value == '|' && !first;
        if (parenthesised) Ascii("( ", output);
        // Prefix order keeps the right operand before the left one.
        var right = new SendBuffer(64);
        Print(query, ref next, false, right, depth + 1);
        Print(query, ref next, false, output, depth + 1);
        output.WriteByte((byte)' ');
        output.WriteByte((byte)value);
        output.WriteByte((byte)' ');
        output.WriteBytes(right.WrittenSpan);
        if (parenthesised) Ascii(" )", output);
    }

    private static void Ascii(string text, SendBuffer output)
    {
        var span = output.Append(text.Length);
        for (var i = 0; i < text.Length; i++) span[i] = (byte)text[i];
    }

    private static DatumFormatException Corrupt(string type, string what) => new($"{type}: {what}");
}
