using System.Security.Cryptography;
using System.Text;

namespace DataSync.Core.Archive.Sftp;

/// <summary>What known_hosts says about the key a server offered.</summary>
public enum HostKeyVerdict
{
    /// <summary>A line for this host holds exactly this key.</summary>
    Trusted,

    /// <summary>No line names this host.</summary>
    Unknown,

    /// <summary>Lines name this host, but with other keys: the server was reinstalled, or someone is in between.</summary>
    Changed,

    /// <summary>The key is marked <c>@revoked</c>.</summary>
    Revoked,
}

/// <summary>The verdict and, for a changed key, the line that holds the key on record.</summary>
public sealed record HostKeyCheck(HostKeyVerdict Verdict, int? RecordedLine);

/// <summary>
/// An OpenSSH known_hosts file: <c>[@marker] patterns keytype base64-key [comment]</c> per line, patterns
/// being comma-separated host names (<c>host</c> for port 22, <c>[host]:port</c> otherwise), with
/// <c>*</c>/<c>?</c> wildcards and <c>!</c> negation, or one hashed name <c>|1|salt|hmac-sha1</c>
/// as <c>ssh-keygen -H</c> and <c>ssh-keyscan -H</c> write them. See sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT".
/// </summary>
public sealed class KnownHosts
{
    private readonly IReadOnlyList<Entry> _entries;

    private KnownHosts(IReadOnlyList<Entry> entries) => _entries = entries;

    public static KnownHosts Empty { get; } = new([]);

    /// <summary>Reads the file; a missing file knows no host (the refusal then says how to create it).</summary>
    public static KnownHosts Load(string path) => File.Exists(path) ? Parse(File.ReadAllText(path)) : Empty;

    /// <summary>Parses known_hosts text. Lines that cannot be read (a bad key encoding, a missing field) are skipped, as ssh does.</summary>
    public static KnownHosts Parse(string text)
    {
        var entries = new List<Entry>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var fields = lines[i].Trim().Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0].StartsWith('#')) continue;
            var marker = Marker.None;
            if (fields[0].StartsWith('@'))
            {
                marker = fields[0] switch
                {
                    "@revoked" => Marker.Revoked,
                    "@cert-authority" => Marker.CertificateAuthority,
                    _ => Marker.Unsupported,
                };
                fields = fields[1..];
            }

            if (marker == Marker.Unsupported || fields.Length < 3) continue;
            byte[] key;
            try
            {
                key = Convert.FromBase64String(fields[2]);
            }
            catch (FormatException)
            {
                continue;
            }

            entries.Add(new Entry(i + 1, marker, fields[0], fields[1], key));
        }

        return new KnownHosts(entries);
    }

    /// <summary>Checks the key blob (SSH wire format, as in the file's base64 field) a server offered.</summary>
    public HostKeyCheck Check(string host, int port, ReadOnlySpan<byte> offeredKey)
    {
        var name = LookupName(host, port);
        int? recorded = null;
        foreach (var entry in _entries)
        {
            if (entry.Marker == Marker.CertificateAuthority || !Matches(entry.Patterns, name)) continue;
            var same = offeredKey.SequenceEqual(entry.Key);
            if (entry.Marker == Marker.Revoked)
            {
                if (same) return new HostKeyCheck(HostKeyVerdict.Revoked, entry.Line);
                continue;
            }

            if (same) return new HostKeyCheck(HostKeyVerdict.Trusted, entry.Line);
            recorded ??= entry.Line;
        }

        return recorded is null ? new HostKeyCheck(HostKeyVerdict.Unknown, null) : new HostKeyCheck(HostKeyVerdict.Changed, recorded);
    }

    /// <summary>The key types (<c>ssh-ed25519</c>, <c>ssh-rsa</c>, ...) on record for the host, so the client asks for one of those.</summary>
    public IReadOnlySet<string> KeyTypesFor(string host, int port)
    {
        var name = LookupName(host, port);
        return _entries.Where(e => e.Marker == Marker.None && Matches(e.Patterns, name)).Select(e => e.KeyType).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The name ssh looks up: <c>host</c> on port 22, <c>[host]:port</c> otherwise.</summary>
    public static string LookupName(string host, int port) =>
        (port == SftpLocation.DefaultPort ? host : $"[{host}]:{port}").ToLowerInvariant();

    /// <summary>The fingerprint as <c>ssh-keygen -l</c> prints it: SHA256 of the key blob, base64 without padding.</summary>
    public static string Fingerprint(ReadOnlySpan<byte> key) => "SHA256:" + Convert.ToBase64String(SHA256.HashData(key)).TrimEnd('=');

    private static bool Matches(string patterns, string name)
    {
        if (patterns.StartsWith("|1|", StringComparison.Ordinal)) return MatchesHashed(patterns, name);
        var matched = false;
        foreach (var raw in patterns.Split(','))
        {
            var negated = raw.StartsWith('!');
            var pattern = (negated ? raw[1..] : raw).ToLowerInvariant();
            if (!Wildcard(pattern, name)) continue;
            if (negated) return false;
            matched = true;
        }

        return matched;
    }

    /// <summary><c>|1|base64(salt)|base64(HMAC-SHA1(salt, name))</c>.</summary>
    private static bool MatchesHashed(string field, string name)
    {
        var parts = field.Split('|');
        if (parts.Length != 4) return false;
        try
        {
            var salt = Convert.FromBase64String(parts[2]);
            var hash = Convert.FromBase64String(parts[3]);
            return CryptographicOperations.FixedTimeEquals(HMACSHA1.HashData(salt, Encoding.UTF8.GetBytes(name)), hash);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>OpenSSH's match_pattern: <c>*</c> any run of characters, <c>?</c> exactly one.</summary>
    private static bool Wildcard(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        while (pattern.Length > 0)
        {
            if (pattern[0] == '*')
            {
                pattern = pattern[1..];
                if (pattern.Length == 0) return true;
                for (var i = 0; i <= text.Length; i++)
                    if (Wildcard(pattern, text[i..])) return true;
                return false;
            }

            if (text.Length == 0 || (pattern[0] != '?' && pattern[0] != text[0])) return false;
            pattern = pattern[1..];
            text = text[1..];
        }

        return text.Length == 0;
    }

    private enum Marker
    {
        None,
        Revoked,
        CertificateAuthority,
        Unsupported,
    }

    private sealed record Entry(int Line, Marker Marker, string Patterns, string KeyType, byte[] Key);
}
