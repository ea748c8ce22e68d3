using System.Text;

namespace DataSync.Core.Tables;

/// <summary>A table list the user typed cannot be read; the message quotes the offending text.</summary>
public sealed class TableNameException(string message) : Exception(message);

/// <summary>
/// Reads the table lists of <c>add-tables</c>, <c>remove-tables</c> and <c>resync</c>: names separated
/// by commas and/or white space, each <c>table</c> or <c>schema.table</c>. Unquoted identifiers fold to
/// lower case as in SQL; double-quoted ones keep case and may hold any character ("" for a quote),
/// so every table PostgreSQL can name can be named here.
/// </summary>
public static class TableNameParser
{
    /// <summary>PostgreSQL's NAMEDATALEN - 1: longer names would be silently truncated by the server.</summary>
    public const int MaxIdentifierBytes = 63;

    public static IReadOnlyList<TableName> ParseList(IEnumerable<string> arguments)
    {
        var text = string.Join(' ', arguments);
        var names = new List<TableName>();
        var position = 0;
        SkipSeparators(text, ref position);
        while (position < text.Length)
        {
            var start = position;
            var first = ReadIdentifier(text, ref position);
            string? second = null;
            if (position < text.Length && text[position] == '.')
            {
                position++;
                second = ReadIdentifier(text, ref position);
            }

            if (position < text.Length && !IsSeparator(text[position]))
            {
                throw new TableNameException($"unexpected '{text[position]}' in table name '{text[start..Math.Min(text.Length, position + 1)]}'");
            }

            var name = second is null ? new TableName(TableName.DefaultSchema, first) : new TableName(first, second);
            if (!names.Contains(name)) names.Add(name);
            SkipSeparators(text, ref position);
        }

        if (names.Count == 0) throw new TableNameException("no table names given");
        return names;
    }

    public static TableName Parse(string text)
    {
        var names = ParseList([text]);
        return names.Count == 1 ? names[0] : throw new TableNameException($"expected one table name, got {names.Count}: '{text}'");
    }

    private static bool IsSeparator(char c) => c == ',' || char.IsWhiteSpace(c);

    private static void SkipSeparators(string text, ref int position)
    {
        while (position < text.Length && IsSeparator(text[position])) position++;
    }

    private static string ReadIdentifier(string text, ref int position)
    {
        if (position >= text.Length) throw new TableNameException($"a table name in '{text}' ends with '.'");
        string identifier;
        if (text[position] == '"')
        {
            var builder = new StringBuilder();
            var start = position++;
            while (true)
            {
                if (position >= text.Length) throw new TableNameException($"unterminated quoted identifier {text[start..]}");
                var c = text[position++];
                if (c != '"')
                {
                    builder.Append(c);
                    continue;
                }

                if (position < text.Length && text[position] == '"')
                {
                    builder.Append('"');
                    position++;
                    continue;
                }

                break;
            }

            identifier = builder.ToString();
            if (identifier.Length == 0) throw new TableNameException("empty quoted identifier \"\"");
            if (identifier.Contains('\0', StringComparison.Ordinal)) throw new TableNameException("an identifier cannot contain a NUL character");
        }
        else
        {
            var start = position;
            if (!IsIdentifierStart(text[position]))
                throw new TableNameException($"'{Excerpt(text, start)}' is not a valid table name: identifiers start with a letter or '_' (quote others with \"...\")");
            while (position < text.Length && IsIdentifierPart(text[position])) position++;
            // Like the server, fold only ASCII letters: other characters keep their case.
            identifier = string.Create(position - start, text[start..position], static (span, source) =>
            {
                for (var i = 0; i < span.Length; i++) span[i] = char.IsAsciiLetterUpper(source[i]) ? (char)(source[i] | 0x20) : source[i];
            });
        }

        if (Encoding.UTF8.GetByteCount(identifier) > MaxIdentifierBytes)
            throw new TableNameException($"identifier '{identifier}' is longer than PostgreSQL's {MaxIdentifierBytes}-byte limit");
        return identifier;
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_' || c > 127;

    private static bool IsIdentifierPart(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '$' || c > 127;

    private static string Excerpt(string text, int start)
    {
        var end = start;
        while (end < text.Length && !IsSeparator(text[end])) end++;
        return text[start..end];
    }
}
