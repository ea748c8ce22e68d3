using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// ltree, of the extension ltree (contrib/ltree/ltree.h, ltree_io.c ltree_send). Stored: the level count as a
/// 16-bit word, padding to 8 bytes counted from the 4-byte varlena header, then each label as a 16-bit length
/// and its bytes, padded to a multiple of 8. Sent: the format version 1, then the labels joined by dots, as
/// text (in the client encoding).
/// </summary>
/// <remarks>A value kept with a 1-byte header keeps this layout, so offsets are counted as if the header had 4 bytes.</remarks>
public static class LtreeSendConverter
{
    private const int HeaderSize = 4;
    private const int FirstLevelAt = 8 - HeaderSize;

    public static void Write(ValueConverter converter, string type, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 2) throw new DatumFormatException($"{type}: a value of {payload.Length} bytes lacks its level count");
        var levels = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        output.WriteByte(1);
        var at = FirstLevelAt;
        for (var level = 0; level < levels; level++)
        {
            if (at + 2 > payload.Length) throw new DatumFormatException($"{type}: level {level + 1} of {levels} starts past the end of the value");
            int length = BinaryPrimitives.ReadUInt16LittleEndian(payload[at..]);
            if (at + 2 + length > payload.Length) throw new DatumFormatException($"{type}: level {level + 1} runs past the end of the value");
            if (level > 0) output.WriteByte((byte)'.');
            converter.WriteText(payload.Slice(at + 2, length), output);
            at += (2 + length + 7) & ~7;
        }
    }
}
