using System.Buffers;
using System.Collections.Frozen;
using System.Text;

namespace DataSync.Wal.Values;

/// <summary>
/// Production's server encoding when it is not UTF8: text values are stored (and so decoded from WAL) in it, while
/// the local database receives COPY BINARY over a UTF8 connection, whose text fields must be UTF8. Converts the
/// text of one value to UTF8. Only single-byte encodings PostgreSQL can be created with are taken; anything else is
/// refused by <see cref="For"/> with the reason.
/// </summary>
public sealed class ServerTextEncoding
{
    /// <summary>PostgreSQL's encoding names (pg_encoding_to_char) → Windows/ISO code pages .NET can decode.</summary>
    private static readonly FrozenDictionary<string, int> CodePages = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["LATIN1"] = 28591, ["LATIN2"] = 28592, ["LATIN3"] = 28593, ["LATIN4"] = 28594, ["LATIN5"] = 28599,
        ["LATIN7"] = 28603, ["LATIN9"] = 28605, ["ISO_8859_5"] = 28595, ["ISO_8859_6"] = 28596, ["ISO_8859_7"] = 28597,
        ["ISO_8859_8"] = 28598, ["WIN1250"] = 1250, ["WIN1251"] = 1251, ["WIN1252"] = 1252, ["WIN1253"] = 1253,
        ["WIN1254"] = 1254, ["WIN1255"] = 1255, ["WIN1256"] = 1256, ["WIN1257"] = 1257, ["WIN1258"] = 1258,
        ["WIN866"] = 866, ["WIN874"] = 874, ["KOI8R"] = 20866, ["KOI8U"] = 21866,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private readonly Encoding _encoding;

    private ServerTextEncoding(string name, Encoding encoding)
    {
        Name = name;
        _encoding = encoding;
    }

    /// <summary>The PostgreSQL name, e.g. LATIN1.</summary>
    public string Name { get; }

    /// <summary>
    /// Null for UTF8 (text goes through as it is); the converter for a supported single-byte encoding; otherwise an
    /// <see cref="UnsupportedEncodingException"/> that says why and what to do.
    /// </summary>
    public static ServerTextEncoding? For(string postgresName)
    {
        if (postgresName is "UTF8" or "") return null;
        if (postgresName == "SQL_ASCII")
            throw new UnsupportedEncodingException("production's database has encoding SQL_ASCII: its text bytes carry no declared encoding, so they " +
                "cannot be converted to the local database's; convert production to UTF8 (or a LATINn/WINnnnn encoding) to sync its tables");
        if (!CodePages.TryGetValue(postgresName, out var codePage))
            throw new UnsupportedEncodingException($"production's database has encoding {postgresName}, which DataSync cannot convert to UTF8 " +
                $"(supported: UTF8, {string.Join(", ", CodePages.Keys.Order(StringComparer.Ordinal))})");
        var encoding = codePage == 28591 ? Encoding.Latin1 : CodePagesEncodingProvider.Instance.GetEncoding(codePage)
            ?? throw new UnsupportedEncodingException($"production's database has encoding {postgresName}; this system has no code page {codePage} for it");
        return new ServerTextEncoding(postgresName, encoding);
    }

    /// <summary>Appends <paramref name="text"/>, in this encoding, to <paramref name="output"/> as UTF8.</summary>
    public void WriteUtf8(ReadOnlySpan<byte> text, SendBuffer output)
    {
        if (!text.ContainsAnyExceptInRange((byte)0, (byte)0x7F))
        {
            // ASCII is the same bytes in every encoding taken here.
            output.WriteBytes(text);
            return;
        }

        var charCount = _encoding.GetCharCount(text);
        char[]? rented = null;
        var chars = charCount <= 512 ? stackalloc char[charCount] : (rented = ArrayPool<char>.Shared.Rent(charCount)).AsSpan(0, charCount);
        try
        {
            _encoding.GetChars(text, chars);
            Encoding.UTF8.GetBytes(chars, output.Append(Encoding.UTF8.GetByteCount(chars)));
        }
        finally
        {
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
        }
    }

    public override string ToString() => Name;
}

/// <summary>Production's server encoding cannot be converted to the local database's; the message says why and what to do.</summary>
public sealed class UnsupportedEncodingException(string message) : Exception(message);
