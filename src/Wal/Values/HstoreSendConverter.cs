using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// hstore, of the extension hstore (contrib/hstore/hstore.h, hstore_io.c hstore_send). Stored: a word holding the
/// pair count (low 28 bits) and a format flag (top bit, set by every hstore since 9.0), then two entries per pair,
/// key then value, each a word with the end offset of its string in the low 30 bits, a NULL flag and, on the
/// first entry, a first flag; then the strings, back to back. A string starts where the entry before ends (the
/// first at 0). Sent: the pair count, then per pair the key as length-prefixed text and the value the same way,
/// -1 for NULL.
/// </summary>
public static class HstoreSendConverter
{
    private const uint NewVersion = 0x80000000;
    private const uint CountMask = 0x0FFFFFFF;
    private const uint EntryIsNull = 0x40000000;
    private const uint EntryEndMask = 0x3FFFFFFF;

    public static void Write(ValueConverter converter, string type, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.IsEmpty)
        {
            output.WriteInt32(0);
            return;
        }

        if (payload.Length < 4) throw new DatumFormatException($"{type}: a value of {payload.Length} bytes lacks its pair count");
        var word = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if ((word & NewVersion) == 0)
            throw new DatumFormatException($"{type}: a value in the hstore format of before PostgreSQL 9.0 (rewrite it with an UPDATE in production)");
        var count = (int)(word & CountMask);
        var stringsAt = 4 + 8L * count;
        if (stringsAt > payload.Length) throw new DatumFormatException($"{type}: {count} pairs do not fit {payload.Length} bytes");
        var strings = payload[(int)stringsAt..];
        output.WriteInt32(count);
        var end = 0;
        for (var entry = 0; entry < 2 * count; entry++)
        {
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(payload[(4 + 4 * entry)..]);
            var start = entry == 0 ? 0 : end;
            end = (int)(bits & EntryEndMask);
            if (end < start || end > strings.Length)
                throw new DatumFormatException($"{type}: entry {entry} ends at {end}, outside {start}..{strings.Length}");
            if (entry % 2 == 1 && (bits & EntryIsNull) != 0)
            {
                output.WriteInt32(-1);
                continue;
            }

            var lengthAt = output.BeginField();
            converter.WriteText(strings[start..end], output);
            output.EndField(lengthAt);
        }
    }
}
