namespace DataSync.Core.Configuration;

/// <summary>
/// Every configuration key the tool knows, in one place: the loader, the unknown-key warning, the
/// sample <c>datasync.toml</c> and the documentation check all read this list.
/// </summary>
public static class ConfigKeys
{
    public const string PgHost = "PG_HOST";
    public const string PgPort = "PG_PORT";
    public const string PgUserName = "PG_USER_NAME";
    public const string PgPassword = "PG_PASSWORD";
    public const string PgDbName = "PG_DB_NAME";
    public const string ProdDbName = "PROD_DB_NAME";
    public const string DataSyncFreq = "DATA_SYNC_FREQ";
    public const string MetricFreq = "METRIC_FREQ";
    public const string ArchiveDir = "ARCHIVE_DIR";
    public const string BaseBackupDir = "BASE_BACKUP_DIR";
    public const string PgBinDir = "PG_BIN_DIR";
    public const string PgOsUser = "PG_OS_USER";
    public const string StateDir = "STATE_DIR";
    public const string ControlPort = "CONTROL_PORT";
    public const string SshKeyFile = "SSH_KEY_FILE";
    public const string SshKnownHosts = "SSH_KNOWN_HOSTS";
    public const string OnConflictKey = "ON_CONFLICT";
    public const string SpoolWarnMb = "SPOOL_WARN_MB";
    public const string MetricsPort = "METRICS_PORT";
    public const string SchemaChangesKey = "SCHEMA_CHANGES";

    /// <summary>The environment variable that holds the configuration file's path.</summary>
    public const string EnvironmentVariable = "DATA_SYNC_CONFIG";

    public static readonly IReadOnlyList<ConfigKey> All =
    [
        new(PgHost, ConfigValueKind.String, "127.0.0.1", false, "Local PostgreSQL host address."),
        new(PgPort, ConfigValueKind.Integer, "5432", false, "Local PostgreSQL port (1-65535)."),
        new(PgUserName, ConfigValueKind.String, "admin", false, "Local database user name."),
        new(PgPassword, ConfigValueKind.String, null, true, "Local database password. Never logged."),
        new(PgDbName, ConfigValueKind.String, null, true, "Local (target) database name."),
        new(ProdDbName, ConfigValueKind.String, null, false, "Production database that holds the synced tables (default: the same name as PG_DB_NAME)."),
        new(DataSyncFreq, ConfigValueKind.Integer, "600", false, "Seconds between scans of the WAL archive (> 0)."),
        new(MetricFreq, ConfigValueKind.Integer, "24", false, "Hours between aggregations into data_sync_metrics (> 0)."),
        new(ArchiveDir, ConfigValueKind.String, null, true, "WAL archive: a local or mounted path, or sftp://user@host[:port]/path."),
        new(BaseBackupDir, ConfigValueKind.String, null, true, "Base backups (plain or tar format, one per subfolder): path or sftp URL."),
        new(PgBinDir, ConfigValueKind.String, null, false, "PostgreSQL 18.1 server binaries for temporary restores (default: found via PATH)."),
        new(PgOsUser, ConfigValueKind.String, null, false, "When datasync runs as root, the OS user it starts temporary restores as."),
        new(StateDir, ConfigValueKind.String, "~/.local/state/datasync", false, "Spool, spill files, temporary restores, control files, logs."),
        new(ControlPort, ConfigValueKind.Integer, "47100", false, "Akka remoting port of the daemon, bound to 127.0.0.1 only (1-65535)."),
        new(SshKeyFile, ConfigValueKind.String, "~/.ssh/id_ed25519", false, "Private key for sftp sources."),
        new(SshKnownHosts, ConfigValueKind.String, "~/.ssh/known_hosts", false, "Known hosts for sftp sources; the host key is always verified."),
        new(OnConflictKey, ConfigValueKind.String, "fail", false, "\"fail\": a change that does not fit pauses the table; \"overwrite\": upsert and go on."),
        new(SpoolWarnMb, ConfigValueKind.Integer, "4096", false,
            "MiB of decoded WAL segments STATE_DIR/spool keeps for the restart point, above which the daemon warns (log and one FAILED row per table) that a long-open production transaction holds the restart point; 0: never."),
        new(MetricsPort, ConfigValueKind.Integer, null, false,
            "Port of the Prometheus metrics endpoint (http://127.0.0.1:PORT/metrics), bound to 127.0.0.1 only (1-65535); unset: no endpoint."),
        new(SchemaChangesKey, ConfigValueKind.String, "follow", false,
            "\"follow\": ADD/DROP/RENAME COLUMN and widening type changes on a synced table are applied to the local table in commit order; \"pause\": any definition change pauses the table."),
    ];

    public static ConfigKey? Find(string name) => All.FirstOrDefault(k => k.Name == name);
}
