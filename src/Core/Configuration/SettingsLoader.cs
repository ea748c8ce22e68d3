using System.Globalization;
using DataSync.Core.Archive.Sftp;
using Tomlyn;
using Tomlyn.Model;

namespace DataSync.Core.Configuration;

/// <summary>Validated settings and the warnings the file deserves (unknown keys, loose permissions).</summary>
public sealed record LoadedSettings(DataSyncSettings Settings, IReadOnlyList<string> Warnings);

/// <summary>
/// Reads the TOML file named by <c>DATA_SYNC_CONFIG</c> and validates every key of
/// <see cref="ConfigKeys"/>. Each failure is a <see cref="ConfigurationException"/> that names the
/// key or the path, so a user can fix the file from the message alone.
/// </summary>
public static class SettingsLoader
{

    public static LoadedSettings LoadFromEnvironment(Func<string, string?>? getEnvironmentVariable = null)
    {
        getEnvironmentVariable ??= Environment.GetEnvironmentVariable;
        var path = getEnvironmentVariable(ConfigKeys.EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ConfigurationException(
                $"{ConfigKeys.EnvironmentVariable} is not set: export it with the path of the configuration file " +
                "(a commented sample is datasync.toml in the repository)",
                key: ConfigKeys.EnvironmentVariable);
        }

        return LoadFile(path);
    }

    public static LoadedSettings LoadFile(string path)
    {
        var fullPath = Path.GetFullPath(ExpandHome(path));
        string text;
        try
        {
            if (Directory.Exists(fullPath)) throw new IOException("it is a directory");
            text = File.ReadAllText(fullPath);
        }
        catch (UnauthorizedAccessException e)
        {
            // Typically a root-only /etc/datasync and a daemon that runs as its own user (systemd's User=).
            var user = Environment.UserName;
            throw new ConfigurationException(
                $"cannot read configuration file '{fullPath}': {e.Message} datasync runs as OS user '{user}', who must be able to read it " +
                $"and its folder: e.g. chown {user} '{fullPath}' and its folder, chmod 600 the file (see the readme, Installation)", path: fullPath, inner: e);
        }
        catch (IOException e)
        {
            throw new ConfigurationException($"cannot read configuration file '{fullPath}': {e.Message}", path: fullPath, inner: e);
        }

        var warnings = new List<string>();
        var loaded = Parse(text, fullPath, warnings);
        if (loaded.Settings.PgPassword.Length > 0 && IsReadableByOthers(fullPath))
        {
            warnings.Add($"configuration file '{fullPath}' holds {ConfigKeys.PgPassword} and is readable by other users; restrict it with: chmod 600 {fullPath}");
        }

        return loaded with { Warnings = warnings };
    }

    /// <summary>Parses and validates TOML text; relative paths resolve against the folder of <paramref name="sourcePath"/>.</summary>
    public static LoadedSettings Parse(string toml, string sourcePath, List<string>? warnings = null)
    {
        warnings ??= [];
        TomlTable table;
        try
        {
            table = TomlSerializer.Deserialize<TomlTable>(toml) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            // The parser quotes the text it stumbled on, which may be the password: the message keeps the place and
            // the reason but none of the file's text, and the parser's exception is not attached (logs print it whole).
            // Cut at the first quote of any kind: a quoted value may itself hold quote characters, so nothing after it is safe.
            var firstLine = e.Message.Split('\n')[0];
            var quote = firstLine.IndexOfAny(['`', '"', '\'']);
            if (quote >= 0) firstLine = firstLine[..quote].TrimEnd() + " …";
            var where = e.Line is { } line ? $"{sourcePath}:{line}" : sourcePath;
            throw new ConfigurationException(
                $"{where}: TOML syntax error: {firstLine} (the file's text is not repeated here; it may hold {ConfigKeys.PgPassword})",
                path: sourcePath);
        }

        foreach (var unknown in UnknownKeys(table, prefix: ""))
        {
            var closest = ClosestKnownKey(unknown);
            warnings.Add($"unknown key '{unknown}' in {sourcePath} is ignored (closest known key: {closest})");
        }

        var baseDirectory = Path.GetDirectoryName(sourcePath) ?? Directory.GetCurrentDirectory();
        var reader = new KeyReader(table, sourcePath);
        var settings = new DataSyncSettings
        {
            PgHost = reader.String(ConfigKeys.PgHost),
            PgPort = reader.Integer(ConfigKeys.PgPort, 1, 65535),
            PgUserName = reader.String(ConfigKeys.PgUserName),
            PgPassword = reader.String(ConfigKeys.PgPassword),
            PgDbName = reader.String(ConfigKeys.PgDbName),
            ProdDbName = reader.OptionalString(ConfigKeys.ProdDbName),
            DataSyncFreqSeconds = reader.Integer(ConfigKeys.DataSyncFreq, 1, int.MaxValue),
            MetricFreqHours = reader.Integer(ConfigKeys.MetricFreq, 1, 24 * 366),
            ArchiveDir = Location(reader, ConfigKeys.ArchiveDir, baseDirectory),
            BaseBackupDir = Location(reader, ConfigKeys.BaseBackupDir, baseDirectory),
            PgBinDir = reader.OptionalString(ConfigKeys.PgBinDir) is { } bin ? ResolvePath(bin, baseDirectory) : null,
            PgOsUser = reader.OptionalString(ConfigKeys.PgOsUser),
            StateDir = ResolvePath(reader.String(ConfigKeys.StateDir), baseDirectory),
            ControlPort = reader.Integer(ConfigKeys.ControlPort, 1, 65535),
            SshKeyFile = ResolvePath(reader.String(ConfigKeys.SshKeyFile), baseDirectory),
            SshKnownHosts = ResolvePath(reader.String(ConfigKeys.SshKnownHosts), baseDirectory),
            OnConflict = ParseOnConflict(reader.String(ConfigKeys.OnConflictKey), sourcePath),
            SchemaChanges = ParseSchemaChanges(reader.String(ConfigKeys.SchemaChangesKey), sourcePath),
            SpoolWarnMb = reader.Integer(ConfigKeys.SpoolWarnMb, 0, int.MaxValue),
            MetricsPort = reader.OptionalInteger(ConfigKeys.MetricsPort, 1, 65535),
            SourceFile = sourcePath,
        };
        if (settings.MetricsPort == settings.ControlPort)
            throw new ConfigurationException(
                $"{ConfigKeys.MetricsPort} in {sourcePath} is {settings.MetricsPort}, the same port as {ConfigKeys.ControlPort}: choose another", key: ConfigKeys.MetricsPort, path: sourcePath);
        return new LoadedSettings(settings, warnings);
    }

    public static string ExpandHome(string path)
    {
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            var home = Environment.GetEnvironmentVariable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return home + path[1..];
        }

        return path;
    }

    private static string ResolvePath(string path, string baseDirectory) =>
        Path.GetFullPath(ExpandHome(path), baseDirectory);

    /// <summary>A local path (made absolute) or an sftp URL (checked for user, host and path).</summary>
    private static string Location(KeyReader reader, string key, string baseDirectory)
    {
        var value = reader.String(key);
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return ResolvePath(value, baseDirectory);

        if (!value.StartsWith("sftp://", StringComparison.OrdinalIgnoreCase))
        {
            throw new ConfigurationException(
                $"{key} in {reader.SourcePath} uses the scheme '{value[..scheme]}://'; only local paths and sftp://user@host[:port]/path are supported",
                key: key, path: reader.SourcePath);
        }

        // The parser's message never repeats a password someone put in the URL.
        if (!SftpLocation.TryParse(value, out _, out var error))
            throw new ConfigurationException($"{key} in {reader.SourcePath}: {error}", key: key, path: reader.SourcePath);

        return value;
    }

    private static OnConflict ParseOnConflict(string value, string sourcePath) =>
        value.ToLowerInvariant() switch
        {
            "fail" => OnConflict.Fail,
            "overwrite" => OnConflict.Overwrite,
            _ => throw new ConfigurationException(
                $"{ConfigKeys.OnConflictKey} in {sourcePath} must be \"fail\" or \"overwrite\", not \"{value}\"",
                key: ConfigKeys.OnConflictKey, path: sourcePath),
        };

    private static SchemaChanges ParseSchemaChanges(string value, string sourcePath) =>
        value.ToLowerInvariant() switch
        {
            "follow" => SchemaChanges.Follow,
            "pause" => SchemaChanges.Pause,
            _ => throw new ConfigurationException(
                $"{ConfigKeys.SchemaChangesKey} in {sourcePath} must be \"follow\" or \"pause\", not \"{value}\"",
                key: ConfigKeys.SchemaChangesKey, path: sourcePath),
        };

    private static IEnumerable<string> UnknownKeys(TomlTable table, string prefix)
    {
        foreach (var (key, value) in table)
        {
            var name = prefix + key;
            if (prefix.Length == 0 && ConfigKeys.Find(key) is not null) continue;
            if (value is TomlTable nested)
            {
                foreach (var inner in UnknownKeys(nested, name + ".")) yield return inner;
            }
            else
            {
                yield return name;
            }
        }
    }

    internal static string ClosestKnownKey(string unknown)
    {
        var upper = unknown.ToUpperInvariant();
        return ConfigKeys.All.MinBy(k => EditDistance(upper, k.Name))!.Name;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static bool IsReadableByOthers(string path)
    {
        var mode = File.GetUnixFileMode(path);
        return (mode & (UnixFileMode.GroupRead | UnixFileMode.OtherRead)) != 0;
    }

    /// <summary>Reads typed values for known keys, applying defaults and naming the key in every error.</summary>
    private sealed class KeyReader(TomlTable table, string sourcePath)
    {
        public string SourcePath => sourcePath;

        public string String(string name)
        {
            var key = ConfigKeys.Find(name)!;
            var value = OptionalString(name) ?? key.Default;
            if (value is null)
            {
                throw new ConfigurationException($"{name} is required but missing from {sourcePath} ({key.Description})", key: name, path: sourcePath);
            }

            return value;
        }

        public string? OptionalString(string name)
        {
            if (!table.TryGetValue(name, out var raw)) return null;
            if (raw is not string text)
                throw WrongType(name, "a string", raw);
            if (string.IsNullOrWhiteSpace(text))
                throw new ConfigurationException($"{name} in {sourcePath} is empty", key: name, path: sourcePath);
            return text;
        }

        public int Integer(string name, long min, long max) =>
            OptionalInteger(name, min, max) ?? InRange(name, long.Parse(ConfigKeys.Find(name)!.Default!, CultureInfo.InvariantCulture), min, max);

        /// <summary>The key's value, or null when the file does not set it (for keys without a default).</summary>
        public int? OptionalInteger(string name, long min, long max)
        {
            if (!table.TryGetValue(name, out var raw)) return null;
            return InRange(name, raw is long number ? number : throw WrongType(name, "an integer", raw), min, max);
        }

        private int InRange(string name, long value, long min, long max)
        {
            if (value < min || value > max)
            {
                var range = max == int.MaxValue ? $"greater than or equal to {min}" : $"between {min} and {max}";
                throw new ConfigurationException($"{name} in {sourcePath} must be {range}, not {value}", key: name, path: sourcePath);
            }

            return (int)value;
        }

        private ConfigurationException WrongType(string name, string expected, object? raw)
        {
            // The password's value is never echoed, whatever its type.
            var shown = name == ConfigKeys.PgPassword
                ? $"a value of type {raw?.GetType().Name ?? "null"}"
                : raw is string s ? $"the string \"{s}\"" : DescribeKind(raw);
            return new ConfigurationException($"{name} in {sourcePath} must be {expected}, not {shown}", key: name, path: sourcePath);
        }

        private static string DescribeKind(object? raw) => raw switch
        {
            long l => $"the integer {l}",
            double d => $"the float {d.ToString(CultureInfo.InvariantCulture)}",
            bool b => $"the boolean {(b ? "true" : "false")}",
            TomlTable => "a table",
            TomlArray => "an array",
            _ => $"a {raw?.GetType().Name ?? "null"}",
        };
    }
}
