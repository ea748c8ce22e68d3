using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace DataSync.Core.Tables;

/// <summary>
/// A schema-qualified table name exactly as PostgreSQL stores it (case and all). Its text form quotes
/// each part that is not a plain lower-case identifier, the way <c>quote_ident</c> would, so the text
/// names one table unambiguously and parses back to the same name.
/// </summary>
public sealed partial record TableName(string Schema, string Name)
{
    public const string DefaultSchema = "public";

    /// <summary>The name for SQL text: both parts always double-quoted.</summary>
    public string Quoted => SqlIdentifier.Quote(Schema) + "." + SqlIdentifier.Quote(Name);

    public override string ToString() => Display(Schema) + "." + Display(Name);

    /// <summary>
    /// The first <paramref name="length"/> lower-case hex digits of the SHA-256 of <see cref="ToString"/>: a part for names
    /// of our own (temporary tables, actors) that stands for this table and that no identifier can break.
    /// </summary>
    public string Digest(int length) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ToString())))[..length].ToLowerInvariant();

    private static string Display(string part) => PlainIdentifier().IsMatch(part) ? part : SqlIdentifier.Quote(part);

    [GeneratedRegex("^[a-z_][a-z0-9_$]*$")]
    private static partial Regex PlainIdentifier();
}

/// <summary>Quoting for identifiers that go into SQL text: the only way names reach SQL other than as parameters.</summary>
public static class SqlIdentifier
{
    public static string Quote(string identifier)
    {
        if (identifier.Contains('\0', StringComparison.Ordinal))
            throw new ArgumentException("an identifier cannot contain a NUL character", nameof(identifier));
        var builder = new StringBuilder(identifier.Length + 2);
        builder.Append('"').Append(identifier.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
        return builder.ToString();
    }
}
