namespace DataSync.Core.Configuration;

/// <summary>
/// The configuration cannot be used: unset variable, unreadable file, bad TOML, missing or invalid key.
/// The message names the key or the path; the CLI turns it into exit code 2.
/// </summary>
public sealed class ConfigurationException : Exception
{
    public ConfigurationException(string message, string? key = null, string? path = null, Exception? inner = null)
        : base(message, inner)
    {
        Key = key;
        Path = path;
    }

    /// <summary>The configuration key at fault, when one is.</summary>
    public string? Key { get; }

    /// <summary>The file at fault, when one is.</summary>
    public string? Path { get; }
}
