using System.Buffers.Binary;
using System.Globalization;
using DataSync.Wal.Toast;

namespace DataSync.Wal.Values;

/// <summary>
/// jsonpath (src/include/utils/jsonpath.h, src/backend/utils/adt/jsonpath.c). Stored: a header word (format version 1,
/// top bit set for lax mode), then a tree of items. Each item starts with its type byte; after padding to 4 bytes come
/// the offset of the next item in the chain (0 for none) and the item's own fields; offsets to other items count from
/// the item's first byte. Sent: the version byte 1, then the path as the server prints it, which this writer produces.
/// </summary>
/// <remarks>
/// How each item prints (PostgreSQL 18): keys and strings always as quoted JSON strings (<c>$."a"</c>), a binary
/// operator in parentheses when its parent binds at least as tightly, a numeric literal in parentheses when an
/// accessor follows it, accessors after the first item with their leading dot.
/// </remarks>
public static class JsonPathTextWriter
{
    private const uint Lax = 0x80000000;
    private const uint Version = 1;
    private const int MaxDepth = 1000;

    private enum Item : byte
    {
        Null, String, Numeric, Bool, And, Or, Not, IsUnknown, Equal, NotEqual, Less, Greater, LessOrEqual, GreaterOrEqual,
        Add, Sub, Mul, Div, Mod, Plus, Minus, AnyArray, AnyKey, IndexArray, Any, Key, Current, Root, Variable, Filter, Exists,
        Type, Size, Abs, Floor, Ceiling, Double, Datetime, KeyValue, Subscript, Last, StartsWith, LikeRegex, Bigint, Boolean,
        Date, Decimal, Integer, Number, StringFunc, Time, TimeTz, Timestamp, TimestampTz,
    }

    /// <summary>Appends the path's text, as the server prints it, in the server encoding (the caller sends the version
    /// byte before it and converts the text to UTF8).</summary>
    public static void Write(ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 4) throw Corrupt($"a value of {payload.Length} bytes lacks its header");
        var header = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if ((header & ~Lax) != Version) throw Corrupt($"format version {header & ~Lax}, not {Version}");
        if ((header & Lax) == 0) Ascii("strict ", output);
        Print(payload[4..], 0, false, true, output, 0);
    }

    /// <summary>Prints the item at <paramref name="at"/> and the chain of items after it (accessors, filters, methods),
    /// each of those with its leading dot and in parentheses where it needs them.</summary>
    private static void Print(ReadOnlySpan<byte> data, int at, bool inKey, bool brackets, SendBuffer output, int depth)
    {
        if (depth > MaxDepth) throw Corrupt("items nest too deeply");
        while (true)
        {
            var next = PrintItem(data, at, inKey, brackets, output, depth);
            if (next <= 0) return;
            at += next;
            inKey = true;
            brackets = true;
        }
    }

    /// <summary>Prints one item (its arguments included); returns the offset of the next item in its chain, 0 for none.</summary>
    private static int PrintItem(ReadOnlySpan<byte> data, int at, bool inKey, bool brackets, SendBuffer output, int depth)
    {
        if (at < 0 || at >= data.Length) throw Corrupt($"an item at {at} is outside the {data.Length} bytes");
        var type = (Item)data[at];
        var p = (at + 4) & ~3;
        var next = Int(data, p);
        p += 4;
        switch (type)
        {
            case Item.Null:
                Ascii("null", output);
                break;
            case Item.String:
                JsonbTextWriter.WriteEscapedString(Text(data, p), output);
                break;
            case Item.Numeric:
                if (next > 0) output.WriteByte((byte)'(');
                if (p >= data.Length) throw Corrupt($"numeric at {p} is outside the value");
                try
                {
                    NumericTextWriter.Write(NumericValue.Read(Varlena.Payload(data[p..]), "jsonpath numeric"), output);
                }
                catch (VarlenaFormatException e)
                {
                    throw Corrupt($"numeric at {p}: {e.Message}");
                }

                if (next > 0) output.WriteByte((byte)')');
                break;
            case Item.Bool:
                if (p >= data.Length) throw Corrupt($"boolean at {p} is outside the value");
                Ascii(data[p] != 0 ? "true" : "false", output);
                break;
            case Item.And or Item.Or or Item.Equal or Item.NotEqual or Item.Less or Item.Greater or Item.LessOrEqual
                or Item.GreaterOrEqual or Item.Add or Item.Sub or Item.Mul or Item.Div or Item.Mod or Item.StartsWith:
            {
                if (brackets) output.WriteByte((byte)'(');
                var left = Child(data, at, p);
                var right = Child(data, at, p + 4);
                Print(data, left, false, Priority((Item)ByteAt(data, left)) <= Priority(type), output, depth + 1);
                output.WriteByte((byte)' ');
                Ascii(Operator(type), output);
                output.WriteByte((byte)' ');
                Print(data, right, false, Priority((Item)ByteAt(data, right)) <= Priority(type), output, depth + 1);
                if (brackets) output.WriteByte((byte)')');
                break;
            }
            case Item.Not:
                Ascii("!(", output);
                Print(data, Child(data, at, p), false, false, output, depth + 1);
                output.WriteByte((byte)')');
                break;
            case Item.IsUnknown:
                output.WriteByte((byte)'(');
                Print(data, Child(data, at, p), false, false, output, depth + 1);
                Ascii(") is unknown", output);
                break;
            case Item.Plus or Item.Minus:
            {
                if (brackets) output.WriteByte((byte)'(');
                output.WriteByte(type == Item.Plus ? (byte)'+' : (byte)'-');
                var argument = Child(data, at, p);
                Print(data, argument, false, Priority((Item)ByteAt(data, argument)) <= Priority(type), output, depth + 1);
                if (brackets) output.WriteByte((byte)')');
                break;
            }
            case Item.AnyArray:
                Ascii("[*]", output);
                break;
            case Item.AnyKey:
                if (inKey) output.WriteByte((byte)'.');
                output.WriteByte((byte)'*');
                break;
            case Item.IndexArray:
            {
                var count = Int(data, p);
                if (count < 0 || p + 4 + 8L * count > data.Length) throw Corrupt($"{count} subscripts do not fit the value");
                output.WriteByte((byte)'[');
                for (var i = 0; i < count; i++)
                {
                    if (i > 0) output.WriteByte((byte)',');
                    var from = Int(data, p + 4 + 8 * i);
                    var to = Int(data, p + 8 + 8 * i);
                    Print(data, Forward(at, from), false, false, output, depth + 1);
                    if (to == 0) continue;
                    Ascii(" to ", output);
                    Print(data, Forward(at, to), false, false, output, depth + 1);
                }

                output.WriteByte((byte)']');
                break;
            }
            case Item.Any:
            {
                if (inKey) output.WriteByte((byte)'.');
                var first = (uint)Int(data, p);
                var last = (uint)Int(data, p + 4);
                Ascii(first == 0 && last == uint.MaxValue ? "**"
                    : first == last ? first == uint.MaxValue ? "**{last}" : $"**{{{Number(first)}}}"
                    : first == uint.MaxValue ? $"**{{last to {Number(last)}}}"
                    : last == uint.MaxValue ? $"**{{{Number(first)} to last}}"
                    : $"**{{{Number(first)} to {Number(last)}}}", output);
                break;
            }
            case Item.Key:
                if (inKey) output.WriteByte((byte)'.');
                JsonbTextWriter.WriteEscapedString(Text(data, p), output);
                break;
            case Item.Current:
                output.WriteByte((byte)'@');
                break;
            case Item.Root:
                output.WriteByte((byte)'$');
                break;
            case Item.Variable:
                output.WriteByte((byte)'$');
                JsonbTextWriter.WriteEscapedString(Text(data, p), output);
                break;
            case Item.Filter:
                Ascii("?(", output);
                Print(data, Child(data, at, p), false, false, output, depth + 1);
                output.WriteByte((byte)')');
                break;
            case Item.Exists:
                Ascii("exists (", output);
                Print(data, Child(data, at, p), false, false, output, depth + 1);
                output.WriteByte((byte)')');
                break;
            case Item.Type or Item.Size or Item.Abs or Item.Floor or Item.Ceiling or Item.Double or Item.KeyValue or Item.Bigint
                or Item.Boolean or Item.Date or Item.Integer or Item.Number or Item.StringFunc:
                output.WriteByte((byte)'.');
                Ascii(Operator(type), output);
                Ascii("()", output);
                break;
            case Item.Datetime or Item.Time or Item.TimeTz or Item.Timestamp or Item.TimestampTz:
            {
                output.WriteByte((byte)'.');
                Ascii(Operator(type), output);
                output.WriteByte((byte)'(');
                var argument = Int(data, p);
                if (argument != 0) Print(data, Forward(at, argument), false, false, output, depth + 1);
                output.WriteByte((byte)')');
                break;
            }
            case Item.Decimal:
            {
                Ascii(".decimal(", output);
                var precision = Int(data, p);
                var scale = Int(data, p + 4);
                if (precision != 0) Print(data, Forward(at, precision), false, false, output, depth + 1);
                if (scale != 0)
                {
                    output.WriteByte((byte)',');
                    Print(data, Forward(at, scale), false, false, output, depth + 1);
                }

                output.WriteByte((byte)')');
                break;
            }
            case Item.Last:
                Ascii("last", output);
                break;
            case Item.LikeRegex:
            {
                if (brackets) output.WriteByte((byte)'(');
                var flags = Int(data, p);
                var expression = Child(data, at, p + 4);
                Print(data, expression, false, Priority((Item)ByteAt(data, expression)) <= Priority(type), output, depth + 1);
                Ascii(" like_regex ", output);
                JsonbTextWriter.WriteEscapedString(Text(data, p + 8), output);
                if (flags != 0)
                {
                    Ascii(" flag \"", output);
                    if ((flags & 0x01) != 0) output.WriteByte((byte)'i');
                    if ((flags & 0x02) != 0) output.WriteByte((byte)'s');
                    if ((flags & 0x04) != 0) output.WriteByte((byte)'m');
                    if ((flags & 0x08) != 0) output.WriteByte((byte)'x');
                    if ((flags & 0x10) != 0) output.WriteByte((byte)'q');
                    output.WriteByte((byte)'"');
                }

                if (brackets) output.WriteByte((byte)')');
                break;
            }
            default:
                throw Corrupt($"item type {(byte)type} at {at} is not one PostgreSQL 18 writes");
        }

        return next;
    }

    /// <summary>How tightly an item binds, as the server ranks it when deciding on parentheses.</summary>
    private static int Priority(Item item) => item switch
    {
        Item.Or => 0,
        Item.And => 1,
        Item.Equal or Item.NotEqual or Item.Less or Item.Greater or Item.LessOrEqual or Item.GreaterOrEqual or Item.StartsWith => 2,
        Item.Add or Item.Sub => 3,
        Item.Mul or Item.Div or Item.Mod => 4,
        Item.Plus or Item.Minus => 5,
        _ => 6,
    };

    private static string Operator(Item item) => item switch
    {
        Item.And => "&&",
        Item.Or => "||",
        Item.Equal => "==",
        Item.NotEqual => "!=",
        Item.Less => "<",
        Item.Greater => ">",
        Item.LessOrEqual => "<=",
        Item.GreaterOrEqual => ">=",
        Item.Add => "+",
        Item.Sub => "-",
        Item.Mul => "*",
        Item.Div => "/",
        Item.Mod => "%",
        Item.StartsWith => "starts with",
        Item.Type => "type",
        Item.Size => "size",
        Item.Abs => "abs",
        Item.Floor => "floor",
        Item.Ceiling => "ceiling",
        Item.Double => "double",
        Item.Datetime => "datetime",
        Item.KeyValue => "keyvalue",
        Item.Bigint => "bigint",
        Item.Boolean => "boolean",
        Item.Date => "date",
        Item.Integer => "integer",
        Item.Number => "number",
        Item.StringFunc => "string",
        Item.Time => "time",
        Item.TimeTz => "time_tz",
        Item.Timestamp => "timestamp",
        Item.TimestampTz => "timestamp_tz",
        _ => throw Corrupt($"item type {(byte)item} has no operator name"),
    };

    /// <summary>The item an argument offset (read at <paramref name="fieldAt"/>) points to.</summary>
    private static int Child(ReadOnlySpan<byte> data, int at, int fieldAt) => Forward(at, Int(data, fieldAt));

    /// <summary>PostgreSQL writes an item's arguments after it, so an offset is positive; anything else is corrupt (and
    /// would let a damaged value loop).</summary>
    private static int Forward(int at, int offset) =>
        offset > 0 ? at + offset : throw Corrupt($"the item at {at} points to offset {offset}, not after itself");

    /// <summary>A length-prefixed string (the length word at <paramref name="at"/>, then the bytes).</summary>
    private static ReadOnlySpan<byte> Text(ReadOnlySpan<byte> data, int at)
    {
        var length = Int(data, at);
        if (length < 0 || at + 4 + (long)length > data.Length) throw Corrupt($"a string of {length} bytes at {at} runs past the value");
        return data.Slice(at + 4, length);
    }

    private static int Int(ReadOnlySpan<byte> data, int at) =>
        at >= 0 && at + 4 <= data.Length ? BinaryPrimitives.ReadInt32LittleEndian(data[at..]) : throw Corrupt($"a field at {at} is outside the {data.Length} bytes");

    private static byte ByteAt(ReadOnlySpan<byte> data, int at) =>
        at >= 0 && at < data.Length ? data[at] : throw Corrupt($"an item at {at} is outside the {data.Length} bytes");

    private static string Number(uint value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Ascii(string text, SendBuffer output)
    {
        var span = output.Append(text.Length);
        for (var i = 0; i < text.Length; i++) span[i] = (byte)text[i];
    }

    private static DatumFormatException Corrupt(string what) => new($"jsonpath: {what}");
}
