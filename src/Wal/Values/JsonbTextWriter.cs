using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Toast;

namespace DataSync.Wal.Values;

/// <summary>
/// Prints a stored jsonb value as the server's jsonb output does (jsonb.c JsonbToCString without
/// indentation): keys in stored order, ", " and ": " separators, strings JSON-escaped, numbers as
/// numeric output, and a scalar root printed alone. jsonb's send form is a version byte and this text.
/// </summary>
/// <remarks>
/// Layout (src/include/utils/jsonb.h): a container is a u32 header (count and kind flags), one
/// u32 JEntry per child (an object lists all keys, then all values) and the children's data.
/// A JEntry holds either the child's length or, every so often, its end offset; the kind of
/// child sits in bits 28-30. Numeric and container children start on a 4-byte boundary, with
/// the padding counted in the JEntry.
/// </remarks>
public static class JsonbTextWriter
{
    private const uint CountMask = 0x0FFF_FFFF;
    private const uint ScalarFlag = 0x1000_0000;
    private const uint ObjectFlag = 0x2000_0000;
    private const uint ArrayFlag = 0x4000_0000;

    private const uint OffsetOrLengthMask = 0x0FFF_FFFF;
    private const uint HasOffsetFlag = 0x8000_0000;
    private const uint KindMask = 0x7000_0000;
    private const uint KindString = 0x0000_0000;
    private const uint KindNumeric = 0x1000_0000;
    private const uint KindFalse = 0x2000_0000;
    private const uint KindTrue = 0x3000_0000;
    private const uint KindNull = 0x4000_0000;
    private const uint KindContainer = 0x5000_0000;

    private const int MaxDepth = 1000;

    /// <summary>Writes the text of the jsonb whose varlena payload is <paramref name="payload"/>.</summary>
    public static void Write(ReadOnlySpan<byte> payload, SendBuffer output) => WriteContainer(payload, 0, payload.Length, output, 0);

    private static void WriteContainer(ReadOnlySpan<byte> data, int start, int end, SendBuffer output, int depth)
    {
        if (depth > MaxDepth) throw new DatumFormatException("jsonb: containers nest too deeply");
        if (end - start < 4) throw Corrupt($"container at {start} is shorter than its header");
        var header = BinaryPrimitives.ReadUInt32LittleEndian(data[start..]);
        var count = (int)(header & CountMask);
        var isObject = (header & ObjectFlag) != 0;
        var isArray = (header & ArrayFlag) != 0;
        if (isObject == isArray) throw Corrupt($"container at {start} is neither an object nor an array");
        var entries = isObject ? 2 * count : count;
        var entriesAt = start + 4;
        if (entriesAt + 4L * entries > end) throw Corrupt($"container at {start} announces {entries} children that do not fit");
        var dataAt = entriesAt + 4 * entries;

        if ((header & ScalarFlag) != 0)
        {
            if (!isArray || count != 1) throw Corrupt("a scalar root must be a one-element array");
            WriteChild(data, entriesAt, dataAt, end, 0, 0, output, depth);
            return;
        }

        output.WriteByte(isObject ? (byte)'{' : (byte)'[');
        if (isObject)
        {
            // Children are stored keys first; the start of child i is the end of child i-1.
            var keyStart = 0;
            var valueStart = ChildrenEnd(data, entriesAt, count, 0);
            for (var i = 0; i < count; i++)
            {
                if (i > 0) WriteAscii(", ", output);
                keyStart = WriteChild(data, entriesAt, dataAt, end, i, keyStart, output, depth);
                WriteAscii(": ", output);
                valueStart = WriteChild(data, entriesAt, dataAt, end, count + i, valueStart, output, depth);
            }
        }
        else
        {
            var childStart = 0;
            for (var i = 0; i < count; i++)
            {
                if (i > 0) WriteAscii(", ", output);
                childStart = WriteChild(data, entriesAt, dataAt, end, i, childStart, output, depth);
            }
        }

        output.WriteByte(isObject ? (byte)'}' : (byte)']');
    }

    /// <summary>End (relative to the data area) of the first <paramref name="count"/> children.</summary>
    private static int ChildrenEnd(ReadOnlySpan<byte> data, int entriesAt, int count, int start)
    {
        var position = start;
        for (var i = 0; i < count; i++) position = ChildEnd(data, entriesAt, i, position);
        return position;
    }

    private static int ChildEnd(ReadOnlySpan<byte> data, int entriesAt, int index, int childStart)
    {
        var entry = BinaryPrimitives.ReadUInt32LittleEndian(data[(entriesAt + 4 * index)..]);
        var field = (int)(entry & OffsetOrLengthMask);
        return (entry & HasOffsetFlag) != 0 ? field : childStart + field;
    }

    /// <summary>Writes child <paramref name="index"/>, which starts at <paramref name="childStart"/>
    /// (relative to the data area), and returns where it ends.</summary>
    private static int WriteChild(ReadOnlySpan<byte> data, int entriesAt, int dataAt, int end, int index, int childStart,
        SendBuffer output, int depth)
    {
        var entry = BinaryPrimitives.ReadUInt32LittleEndian(data[(entriesAt + 4 * index)..]);
        var childEnd = ChildEnd(data, entriesAt, index, childStart);
        var from = dataAt + childStart;
        var to = dataAt + childEnd;
        if (childEnd < childStart || to > end) throw Corrupt($"child {index} at {from}..{to} runs outside its container");

        switch (entry & KindMask)
        {
            case KindString:
                WriteEscapedString(data[from..to], output);
                break;
            case KindNumeric:
                var numericAt = TypeAlignment.Align(from, 4);
                if (numericAt >= to) throw Corrupt($"numeric child {index} is empty");
                var numeric = data[numericAt..to];
                NumericTextWriter.Write(NumericValue.Read(Varlena.Payload(numeric), "jsonb numeric"), output);
                break;
            case KindFalse:
                WriteAscii("false", output);
                break;
            case KindTrue:
                WriteAscii("true", output);
                break;
            case KindNull:
                WriteAscii("null", output);
                break;
            case KindContainer:
                WriteContainer(data, TypeAlignment.Align(from, 4), to, output, depth + 1);
                break;
            default:
                throw Corrupt($"child {index} has unknown kind 0x{entry & KindMask:X8}");
        }

        return childEnd;
    }

    /// <summary>JSON string escaping as the server's escape_json: the two-character escapes for
    /// \b \f \n \r \t " and \\, \u00XX (lower-case hex) for other control characters, everything
    /// else (multi-byte UTF-8 included) as is.</summary>
    internal static void WriteEscapedString(ReadOnlySpan<byte> text, SendBuffer output)
    {
        output.WriteByte((byte)'"');
        var plainFrom = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c >= 0x20 && c != '"' && c != '\\') continue;
            output.WriteBytes(text[plainFrom..i]);
            plainFrom = i + 1;
            switch (c)
            {
                case (byte)'\b': WriteAscii("\\b", output); break;
                case (byte)'\f': WriteAscii("\\f", output); break;
                case (byte)'\n': WriteAscii("\\n", output); break;
                case (byte)'\r': WriteAscii("\\r", output); break;
                case (byte)'\t': WriteAscii("\\t", output); break;
                case (byte)'"': WriteAscii("\\\"", output); break;
                case (byte)'\\': WriteAscii("\\\\", output); break;
                default:
                    WriteAscii("\\u00", output);
                    output.WriteByte(HexDigit(c >> 4));
                    output.WriteByte(HexDigit(c & 0xF));
                    break;
            }
        }

        output.WriteBytes(text[plainFrom..]);
        output.WriteByte((byte)'"');
    }

    private static byte HexDigit(int value) => (byte)(value < 10 ? '0' + value : 'a' + value - 10);

    private static void WriteAscii(string text, SendBuffer output)
    {
        var span = output.Append(text.Length);
        for (var i = 0; i < text.Length; i++) span[i] = (byte)text[i];
    }

    private static DatumFormatException Corrupt(string what) => new($"jsonb: {what}");
}
