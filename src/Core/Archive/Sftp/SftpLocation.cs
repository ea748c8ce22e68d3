using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace DataSync.Core.Archive.Sftp;

/// <summary>
/// A folder on an sftp server, as ARCHIVE_DIR and BASE_BACKUP_DIR name it: <c>sftp://user@host[:port]/path</c>.
/// The path is absolute on the server. Passwords in the URL are refused (keys only), so a location can
/// always be printed without leaking a secret.
/// </summary>
public sealed record SftpLocation(string User, string Host, int Port, string Path)
{
    public const int DefaultPort = 22;
    private const string Scheme = "sftp://";

    /// <summary>True when <paramref name="value"/> is meant as an sftp URL (whether or not it is a valid one).</summary>
    public static bool IsSftpUrl(string value) => value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>How OpenSSH names the server in known_hosts and on the command line: <c>host</c> on port 22, <c>[host]:port</c> otherwise.</summary>
    public string KnownHostsName => Port == DefaultPort ? Host : $"[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>host:port, with IPv6 addresses bracketed.</summary>
    public string Authority => $"{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The location of a file or folder below this one.</summary>
    public string Below(string name) => Path.EndsWith('/') ? Path + name : Path + "/" + name;

    public override string ToString() =>
        $"sftp://{Uri.EscapeDataString(User)}@{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}" +
        $"{(Port == DefaultPort ? "" : ":" + Port.ToString(CultureInfo.InvariantCulture))}{Path}";

    /// <summary>Parses an sftp URL; the error says what is wrong without repeating a password.</summary>
    public static SftpLocation Parse(string url) =>
        TryParse(url, out var location, out var error) ? location : throw new FormatException(error);

    public static bool TryParse(string url, [NotNullWhen(true)] out SftpLocation? location, [NotNullWhen(false)] out string? error)
    {
        location = null;
        const string shape = "must look like sftp://user@host[:port]/path";
        if (!IsSftpUrl(url))
        {
            error = $"'{url}' is not an sftp URL: it {shape}";
            return false;
        }

        var rest = url[Scheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash < 0 ? rest : rest[..slash];
        var at = authority.LastIndexOf('@');
        if (at >= 0 && authority[..at].Contains(':', StringComparison.Ordinal))
        {
            error = $"sftp URL for host '{authority[(at + 1)..]}' carries a password; passwords are not supported: remove it and give the key in SSH_KEY_FILE";
            return false;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "sftp")
        {
            error = $"'{url}' {shape}";
            return false;
        }

        var user = Uri.UnescapeDataString(uri.UserInfo);
        var host = uri.IdnHost.Trim('[', ']');
        if (user.Length == 0)
        {
            error = $"'{url}' names no user: it {shape}";
            return false;
        }

        if (host.Length == 0)
        {
            error = $"'{url}' names no host: it {shape}";
            return false;
        }

        var path = Uri.UnescapeDataString(uri.AbsolutePath);
        if (path.Length <= 1 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            error = $"'{url}' names no folder (or has a ?query or #fragment): it {shape}";
            return false;
        }

        var port = uri.Port < 0 ? DefaultPort : uri.Port;
        if (port == 0)
        {
            error = $"'{url}' names port 0: it {shape}";
            return false;
        }

        location = new SftpLocation(user, host.ToLowerInvariant(), port, path.TrimEnd('/'));
        error = null;
        return true;
    }
}
