namespace DataSync.Core.Configuration;

/// <summary>The TOML value kinds a key accepts.</summary>
public enum ConfigValueKind
{
    String,
    Integer,
}

/// <summary>One configuration key: its name, what it holds, its default (null when required or optional without one) and what it means.</summary>
public sealed record ConfigKey(string Name, ConfigValueKind Kind, string? Default, bool Required, string Description);
