using DataSync.Core.Configuration;

namespace DataSync.Core.Tests.Configuration;

public sealed class SettingsLoaderTests : IDisposable
{
    private const string Minimal = """
        PG_PASSWORD = "s3cret"
        PG_DB_NAME = "analytics"
        ARCHIVE_DIR = "/srv/archive"
        BASE_BACKUP_DIR = "/srv/backups"
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("datasync-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string toml, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = Path.Combine(_folder, "datasync.toml");
        File.WriteAllText(path, toml);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    private ConfigurationException Fails(string toml) =>
        Assert.Throws<ConfigurationException>(() => SettingsLoader.LoadFile(Write(toml)));

    [Fact]
    public void Minimal_file_gets_every_default()
    {
        var (settings, warnings) = SettingsLoader.LoadFile(Write(Minimal));

        Assert.Empty(warnings);
        Assert.Equal("127.0.0.1", settings.PgHost);
        Assert.Equal(5432, settings.PgPort);
        Assert.Equal("admin", settings.PgUserName);
        Assert.Equal("s3cret", settings.PgPassword);
        Assert.Equal("analytics", settings.PgDbName);
        Assert.Equal(600, settings.DataSyncFreqSeconds);
        Assert.Equal(24, settings.MetricFreqHours);
        Assert.Equal("/srv/archive", settings.ArchiveDir);
        Assert.Equal("/srv/backups", settings.BaseBackupDir);
        Assert.Null(settings.PgBinDir);
        Assert.Null(settings.PgOsUser);
        Assert.Equal(SettingsLoader.ExpandHome("~/.local/state/datasync"), settings.StateDir);
        Assert.Equal(47100, settings.ControlPort);
        Assert.EndsWith("/.ssh/id_ed25519", settings.SshKeyFile);
        Assert.EndsWith("/.ssh/known_hosts", settings.SshKnownHosts);
        Assert.Equal(OnConflict.Fail, settings.OnConflict);
        Assert.Equal(SchemaChanges.Follow, settings.SchemaChanges);
        Assert.Null(settings.MetricsPort);
    }

    [Fact]
    public void Every_key_can_be_set()
    {
        var (settings, _) = SettingsLoader.LoadFile(Write(Minimal + """

            PG_HOST = "db.local"
            PG_PORT = 6543
            PG_USER_NAME = "sync"
            DATA_SYNC_FREQ = 30
            METRIC_FREQ = 1
            PG_BIN_DIR = "bin"
            PG_OS_USER = "postgres"
            STATE_DIR = "state"
            CONTROL_PORT = 47200
            SSH_KEY_FILE = "/keys/id"
            SSH_KNOWN_HOSTS = "/keys/known"
            ON_CONFLICT = "overwrite"
            SCHEMA_CHANGES = "pause"
            METRICS_PORT = 9187
            """));

        Assert.Equal(("db.local", 6543, "sync", 30, 1), (settings.PgHost, settings.PgPort, settings.PgUserName, settings.DataSyncFreqSeconds, settings.MetricFreqHours));
        Assert.Equal(Path.Combine(_folder, "bin"), settings.PgBinDir);
        Assert.Equal(Path.Combine(_folder, "state"), settings.StateDir);
        Assert.Equal(("postgres", 47200, "/keys/id", "/keys/known", OnConflict.Overwrite),
            (settings.PgOsUser, settings.ControlPort, settings.SshKeyFile, settings.SshKnownHosts, settings.OnConflict));
        Assert.Equal(9187, settings.MetricsPort);
        Assert.Equal(SchemaChanges.Pause, settings.SchemaChanges);
    }

    [Fact]
    public void Sftp_locations_are_kept_as_urls()
    {
        var (settings, _) = SettingsLoader.LoadFile(Write(Minimal.Replace("\"/srv/archive\"", "\"sftp://backup@archive.example:2222/wal\"")));
        Assert.Equal("sftp://backup@archive.example:2222/wal", settings.ArchiveDir);
    }

    [Fact]
    public void Unset_environment_variable_is_named()
    {
        var error = Assert.Throws<ConfigurationException>(() => SettingsLoader.LoadFromEnvironment(_ => null));
        Assert.Equal("DATA_SYNC_CONFIG", error.Key);
        Assert.Contains("DATA_SYNC_CONFIG is not set", error.Message);
    }

    [Fact]
    public void Missing_file_is_named()
    {
        var missing = Path.Combine(_folder, "nope.toml");
        var error = Assert.Throws<ConfigurationException>(() => SettingsLoader.LoadFromEnvironment(_ => missing));
        Assert.Equal(missing, error.Path);
        Assert.Contains(missing, error.Message);
    }

    [Fact]
    public void Unreadable_file_is_named()
    {
        var error = Assert.Throws<ConfigurationException>(() => SettingsLoader.LoadFile(_folder));
        Assert.Contains(_folder, error.Message);
        Assert.Contains("directory", error.Message);
    }

    [Fact]
    public void Syntax_error_gives_the_line()
    {
        var error = Fails(Minimal + "\nPG_PORT = = 5\n");
        Assert.Contains("datasync.toml:5", error.Message);
        Assert.Contains("TOML syntax error", error.Message);
    }

    [Theory]
    [InlineData("PG_PASSWORD = \"abc\"hunter2", 1)]
    [InlineData("PG_PASSWORD = hunter2", 1)]
    [InlineData("PG_PASSWORD = \"hunter2", 1)]
    [InlineData("PG_PASSWORD = 'hunter2'x", 1)]
    [InlineData("PG_PASSWORD = \"\"\"hunter2\"\"\"\"\"x", 1)]
    [InlineData("ARCHIVE_DIR = \"/a\"\nPG_PASSWORD = \"hunter2\" \"hunter2\"", 2)]
    [InlineData("PG_PASSWORD = \"hunter2\"\nPG_PORT = = 5", 2)]
    [InlineData("PG_PASSWORD = [\"hunter2\", hunter2]", 1)]
    [InlineData("PG_PASSWORD = \"x`hunter2\"y", 1)]
    [InlineData("PG_PASSWORD = \"x'hunter2\"y", 1)]
    [InlineData("PG_PASSWORD = { a = \"hunter2\" hunter2 }", 1)]
    public void A_syntax_error_never_repeats_what_the_file_holds(string toml, int line)
    {
        var error = Fails(toml);
        Assert.DoesNotContain("hunter2", error.Message);
        Assert.DoesNotContain("hunter2", error.ToString());
        Assert.Contains($"datasync.toml:{line}", error.Message);
        Assert.Contains("TOML syntax error", error.Message);
    }

    [Fact]
    public async Task A_syntax_error_shown_by_the_cli_never_repeats_the_password()
    {
        var path = Write("PG_PASSWORD = \"abc\"hunter2\nPG_DB_NAME = \"a\"\n");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await DataSync.Cli.DataSyncCli.RunAsync(["status"], stdout, stderr, name => name == "DATA_SYNC_CONFIG" ? path : null);
        Assert.Equal(2, code);
        Assert.DoesNotContain("hunter2", stdout.ToString() + stderr.ToString());
        Assert.Contains("TOML syntax error", stderr.ToString());
    }

    [Theory]
    [InlineData("PG_PASSWORD")]
    [InlineData("PG_DB_NAME")]
    [InlineData("ARCHIVE_DIR")]
    [InlineData("BASE_BACKUP_DIR")]
    public void Missing_required_key_is_named(string key)
    {
        var toml = string.Join('\n', Minimal.Split('\n').Where(l => !l.StartsWith(key, StringComparison.Ordinal)));
        var error = Fails(toml);
        Assert.Equal(key, error.Key);
        Assert.Contains($"{key} is required", error.Message);
    }

    [Theory]
    [InlineData("DATA_SYNC_FREQ = \"often\"", "DATA_SYNC_FREQ", "must be an integer, not the string \"often\"")]
    [InlineData("PG_PORT = 54.32", "PG_PORT", "must be an integer, not the float 54.32")]
    [InlineData("PG_HOST = 5", "PG_HOST", "must be a string, not the integer 5")]
    [InlineData("ON_CONFLICT = true", "ON_CONFLICT", "must be a string, not the boolean true")]
    public void Wrong_type_is_named(string line, string key, string expected)
    {
        var error = Fails(Minimal + "\n" + line);
        Assert.Equal(key, error.Key);
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("DATA_SYNC_FREQ = 0", "DATA_SYNC_FREQ")]
    [InlineData("DATA_SYNC_FREQ = -5", "DATA_SYNC_FREQ")]
    [InlineData("METRIC_FREQ = 0", "METRIC_FREQ")]
    [InlineData("PG_PORT = 0", "PG_PORT")]
    [InlineData("PG_PORT = 65536", "PG_PORT")]
    [InlineData("CONTROL_PORT = 70000", "CONTROL_PORT")]
    [InlineData("ON_CONFLICT = \"ignore\"", "ON_CONFLICT")]
    [InlineData("SCHEMA_CHANGES = \"ignore\"", "SCHEMA_CHANGES")]
    [InlineData("METRICS_PORT = 0", "METRICS_PORT")]
    [InlineData("METRICS_PORT = 65536", "METRICS_PORT")]
    [InlineData("METRICS_PORT = \"9187\"", "METRICS_PORT")]
    [InlineData("METRICS_PORT = 47100", "METRICS_PORT")]
    [InlineData("PG_USER_NAME = \"\"", "PG_USER_NAME")]
    public void Out_of_range_is_named(string line, string key)
    {
        var error = Fails(Minimal + "\n" + line);
        Assert.Equal(key, error.Key);
        Assert.StartsWith(key, error.Message);
    }

    [Theory]
    [InlineData("s3://bucket/wal")]
    [InlineData("sftp://host-without-user/wal")]
    [InlineData("sftp://user@host")]
    public void Unusable_archive_location_is_named(string url)
    {
        var error = Fails(Minimal.Replace("\"/srv/archive\"", $"\"{url}\""));
        Assert.Equal("ARCHIVE_DIR", error.Key);
    }

    [Fact]
    public void A_password_in_an_sftp_url_is_refused_without_repeating_it()
    {
        var error = Fails(Minimal.Replace("\"/srv/archive\"", "\"sftp://backup:s3cret-pw@archive.example/wal\""));
        Assert.Equal("ARCHIVE_DIR", error.Key);
        Assert.Contains("SSH_KEY_FILE", error.Message);
        Assert.DoesNotContain("s3cret-pw", error.Message);
    }

    [Fact]
    public void Unknown_keys_warn_with_the_closest_known_key()
    {
        var (_, warnings) = SettingsLoader.LoadFile(Write(Minimal + "\nPG_PROT = 5433\nDATASYNC_FREQ = 10\n[extra]\nfoo = 1\n"));

        Assert.Equal(3, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("'PG_PROT'") && w.Contains("closest known key: PG_PORT"));
        Assert.Contains(warnings, w => w.Contains("'DATASYNC_FREQ'") && w.Contains("closest known key: DATA_SYNC_FREQ"));
        Assert.Contains(warnings, w => w.Contains("'extra.foo'"));
    }

    [Fact]
    public void World_readable_file_with_a_password_warns()
    {
        var path = Write(Minimal, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var (_, warnings) = SettingsLoader.LoadFile(path);
        var warning = Assert.Single(warnings);
        Assert.Contains("readable by other users", warning);
        Assert.Contains("chmod 600 " + path, warning);
    }

    [Fact]
    public void Password_never_appears_in_text_forms()
    {
        var (settings, _) = SettingsLoader.LoadFile(Write(Minimal));
        Assert.DoesNotContain("s3cret", settings.ToString());
        var error = Fails(Minimal.Replace("PG_PASSWORD = \"s3cret\"", "PG_PASSWORD = 12345"));
        Assert.DoesNotContain("12345", error.Message.Replace("PG_PASSWORD", ""));
    }
}

public sealed class SampleConfigurationTests
{
    private static string RepositoryFile(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "DataSync.Actors.sln"))) return Path.Combine(dir.FullName, name);
        }

        throw new FileNotFoundException("repository root not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Sample_datasync_toml_is_valid_and_mentions_every_key()
    {
        var path = RepositoryFile("datasync.toml");
        var text = File.ReadAllText(path);
        var loaded = SettingsLoader.Parse(text, path);
        Assert.Empty(loaded.Warnings);
        Assert.Equal(600, loaded.Settings.DataSyncFreqSeconds);
        foreach (var key in ConfigKeys.All)
            Assert.Matches($"(?m)^#? ?{key.Name} = ", text);
    }
}
