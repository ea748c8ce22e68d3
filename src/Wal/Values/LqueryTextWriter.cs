using System.Buffers.Binary;
using System.Globalization;

namespace DataSync.Wal.Values;

/// <summary>
/// lquery, of the extension ltree (contrib/ltree/ltree.h, ltree_io.c lquery_send). Stored, with offsets counted from
/// the 4-byte varlena header: the level count, then from offset 16 each level: its total length, flags (0x10 NOT,
/// 0x20 has a repeat count), variant count (0 for <c>*</c>), low and high repeat counts, and from 16 bytes on its
/// variants, each a hash, the label's length, flags (0x01 <c>*</c>, 0x02 <c>@</c>, 0x04 <c>%</c>) and from its byte 7
/// the label; the next variant starts 8 bytes plus the label's length padded to 8 further on. A level's length is padded to 8 too. Sent: the format version 1, then the query as the server
/// prints it.
/// </summary>
public static class LqueryTextWriter
{
    private const int HeaderSize = 4;
    private const int FirstLevelAt = 16 - HeaderSize;
    private const int LevelHeaderSize = 16;
    private const int VariantHeaderSize = 8;
    private const int VariantNameAt = 7;
    private const ushort Not = 0x10;
    private const ushort Count = 0x20;
    private const byte AnyEnd = 0x01;
    private const byte CaseInsensitive = 0x02;
    private const byte Sublexeme = 0x04;
    private const ushort MaxLevels = ushort.MaxValue;

    public static void Write(ValueConverter converter, string type, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 6) throw Corrupt(type, $"a value of {payload.Length} bytes lacks its header");
        var levels = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        output.WriteByte(1);
        var at = FirstLevelAt;
        for (var level = 0; level < levels; level++)
        {
            if (at + LevelHeaderSize > payload.Length) throw Corrupt(type, $"level {level + 1} of {levels} starts past the end of the value");
            var totalLength = BinaryPrimitives.ReadUInt16LittleEndian(payload[at..]);
            var flags = BinaryPrimitives.ReadUInt16LittleEndian(payload[(at + 2)..]);
            var variants = BinaryPrimitives.ReadUInt16LittleEndian(payload[(at + 4)..]);
            var low = BinaryPrimitives.ReadUInt16LittleEndian(payload[(at + 6)..]);
            var high = BinaryPrimitives.ReadUInt16LittleEndian(payload[(at + 8)..]);
            if (level > 0) output.WriteByte((byte)'.');
            if (variants == 0)
            {
                output.WriteByte((byte)'*');
            }
            else
            {
                if ((flags & Not) != 0) output.WriteByte((byte)'!');
                var variantAt = at + LevelHeaderSize;
                for (var v = 0; v < variants; v++)
                {
                    if (variantAt + VariantHeaderSize > payload.Length) throw Corrupt(type, $"level {level + 1}, variant {v + 1} starts past the end of the value");
                    int length = BinaryPrimitives.ReadUInt16LittleEndian(payload[(variantAt + 4)..]);
                    var variantFlags = payload[variantAt + 6];
                    if (variantAt + VariantNameAt + length > payload.Length) throw Corrupt(type, $"level {level + 1}, variant {v + 1} runs past the end of the value");
                    if (v > 0) output.WriteByte((byte)'|');
                    converter.WriteText(payload.Slice(variantAt + VariantNameAt, length), output);
                    if ((variantFlags & Sublexeme) != 0) output.WriteByte((byte)'%');
                    if ((variantFlags & CaseInsensitive) != 0) output.WriteByte((byte)'@');
                    if ((variantFlags & AnyEnd) != 0) output.WriteByte((byte)'*');
                    variantAt += VariantHeaderSize + ((length + 7) & ~7);
                }
            }

            if ((flags & Count) != 0 || variants == 0) WriteCount(low, high, variants == 0, output);
            if (totalLength < LevelHeaderSize) throw Corrupt(type, $"level {level + 1} has length {totalLength}");
            at += (totalLength + 7) & ~7;
        }
    }

    /// <summary>The repeat count: nothing for a bare <c>*</c> (any number of levels), else in braces.</summary>
    private static void WriteCount(ushort low, ushort high, bool star, SendBuffer output)
    {
        string text;
        if (low == high) text = $"{{{Number(low)}}}";
        else if (low == 0 && high == MaxLevels) text = star ? "" : "{,}";
        else if (low == 0) text = $"{{,{Number(high)}}}";
        else if (high == MaxLevels) text = $"{{{Number(low)},}}";
        else text = $"{{{Number(low)},{Number(high)}}}";
        var span = output.Append(text.Length);
        for (var i = 0; i < text.Length; i++) span[i] = (byte)text[i];
    }

    private static string Number(ushort value) => value.ToString(CultureInfo.InvariantCulture);

    private static DatumFormatException Corrupt(string type, string what) => new($"{type}: {what}");
}
