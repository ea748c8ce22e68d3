namespace DataSync.Wal.Values;

/// <summary>
/// xml (xml.c): stored as the document's text, declaration included, as it was given. The send function
/// does not send that text as is: it re-prints the XML declaration for the client encoding (UTF8 here).
/// A declaration with a version other than 1.0, or a standalone attribute, becomes
/// <c>&lt;?xml version="…"[ standalone="yes|no"]?&gt;</c>; any other declaration is dropped (its encoding
/// attribute no longer applies), and then one newline right after it too. A value with no declaration
/// loses a leading newline the same way. A declaration PostgreSQL cannot parse leaves the value untouched.
/// </summary>
public static class XmlSendConverter
{
    public static void Write(ValueConverter converter, ReadOnlySpan<byte> text, SendBuffer output)
    {
        if (!TryReadDeclaration(text, out var length, out var version, out var standalone))
        {
            converter.WriteText(text, output);
            return;
        }

        var keep = (!version.IsEmpty && !version.SequenceEqual("1.0"u8)) || standalone is not null;
        if (keep)
        {
            output.WriteBytes("<?xml version=\""u8);
            output.WriteBytes(version.IsEmpty ? "1.0"u8 : version);
            output.WriteByte((byte)'"');
            if (standalone is { } yes) output.WriteBytes(yes ? " standalone=\"yes\""u8 : " standalone=\"no\""u8);
            output.WriteBytes("?>"u8);
        }
        else if (length < text.Length && text[length] == (byte)'\n')
        {
            length++;
        }

        converter.WriteText(text[length..], output);
    }

    /// <summary>
    /// Reads an XML declaration at the start of <paramref name="text"/> by PostgreSQL's rules: <c>&lt;?xml</c>,
    /// white space, <c>version</c> = a quoted value, optionally white space and <c>encoding</c> = a quoted
    /// value, optionally white space and <c>standalone</c> = 'yes' or 'no' (either quote), white space, <c>?&gt;</c>.
    /// True with length 0 when the text has no declaration; false when it has one that does not parse, or
    /// that holds a byte outside ASCII.
    /// </summary>
    private static bool TryReadDeclaration(ReadOnlySpan<byte> text, out int length, out ReadOnlySpan<byte> version, out bool? standalone)
    {
        length = 0;
        version = default;
        standalone = null;
        if (!text.StartsWith("<?xml"u8)) return true;
        var p = 5;
        // "<?xml" followed by a name character is a processing instruction (<?xml-stylesheet …?>), not a
        // declaration; followed by anything but white space it cannot be one either. Both leave the text whole.
        if (!IsSpace(text, p)) return false;
        p = SkipSpace(text, p);
        if (!TryAttribute(text, ref p, "version"u8, out version)) return false;

        var beforeEncoding = p;
        p = SkipSpace(text, p);
        if (text[p..].StartsWith("encoding"u8))
        {
            if (!IsSpace(text, beforeEncoding)) return false;
            if (!TryAttribute(text, ref p, "encoding"u8, out _)) return false;
        }
        else
        {
            p = beforeEncoding;
        }

        var beforeStandalone = p;
        p = SkipSpace(text, p);
        if (text[p..].StartsWith("standalone"u8))
        {
            if (!IsSpace(text, beforeStandalone)) return false;
            p = SkipSpace(text, p + 10);
            if (p >= text.Length || text[p] != (byte)'=') return false;
            p = SkipSpace(text, p + 1);
            var rest = text[p..];
            if (rest.StartsWith("'yes'"u8) || rest.StartsWith("\"yes\""u8)) { standalone = true; p += 5; }
            else if (rest.StartsWith("'no'"u8) || rest.StartsWith("\"no\""u8)) { standalone = false; p += 4; }
            else return false;
        }
        else
        {
            p = beforeStandalone;
        }

        p = SkipSpace(text, p);
        if (!text[p..].StartsWith("?>"u8)) return false;
        length = p + 2;
        foreach (var b in text[..length])
        {
            if (b > 127) return false;
        }

        return true;
    }

    /// <summary>At <paramref name="p"/>: the name, optional white space, '=', optional white space, a value in
    /// single or double quotes (which may run to the next such quote anywhere after it).</summary>
    private static bool TryAttribute(ReadOnlySpan<byte> text, scoped ref int p, scoped ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!text[p..].StartsWith(name)) return false;
        p = SkipSpace(text, p + name.Length);
        if (p >= text.Length || text[p] != (byte)'=') return false;
        p = SkipSpace(text, p + 1);
        if (p >= text.Length || (text[p] != (byte)'\'' && text[p] != (byte)'"')) return false;
        var close = text[(p + 1)..].IndexOf(text[p]);
        if (close < 0) return false;
        value = text.Slice(p + 1, close);
        p += close + 2;
        return true;
    }

    private static bool IsSpace(ReadOnlySpan<byte> text, int p) => p < text.Length && text[p] is 0x20 or 0x09 or 0x0A or 0x0D;

    private static int SkipSpace(ReadOnlySpan<byte> text, int p)
    {
        while (IsSpace(text, p)) p++;
        return p;
    }
}
