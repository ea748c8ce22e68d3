using System.Text;

namespace DataSync.Core.Configuration;

/// <summary>
/// The validated configuration. Paths are absolute with <c>~</c> expanded. The password never
/// appears in <see cref="ToString"/>, so logging the settings cannot leak it.
/// </summary>
public sealed record DataSyncSettings
{
    public string PgHost { get; init; } = "127.0.0.1";
    public int PgPort { get; init; } = 5432;
    public string PgUserName { get; init; } = "admin";
    public required string PgPassword { get; init; }
    public required string PgDbName { get; init; }

    /// <summary>The production database the synced tables live in; its name is not in the WAL, only its OID.</summary>
    public string? ProdDbName { get; init; }

    public string ProductionDatabase => ProdDbName ?? PgDbName;
    public int DataSyncFreqSeconds { get; init; } = 600;
    public int MetricFreqHours { get; init; } = 24;
    public required string ArchiveDir { get; init; }
    public required string BaseBackupDir { get; init; }
    public string? PgBinDir { get; init; }
    public string? PgOsUser { get; init; }
    public required string StateDir { get; init; }
    public int ControlPort { get; init; } = 47100;
    public required string SshKeyFile { get; init; }
    public required string SshKnownHosts { get; init; }
    public OnConflict OnConflict { get; init; } = OnConflict.Fail;

    /// <summary>What an upstream change of a synced table's definition does (SCHEMA_CHANGES).</summary>
    public SchemaChanges SchemaChanges { get; init; } = SchemaChanges.Follow;

    /// <summary>
    /// MiB of segments in the spool above which a warning says what holds the stream's restart point (a long-open
    /// production transaction keeps every segment from its first record on); 0 turns the warning off.
    /// </summary>
    public int SpoolWarnMb { get; init; } = 4096;

    /// <summary>Where the daemon serves Prometheus metrics on 127.0.0.1; null: no metrics endpoint.</summary>
    public int? MetricsPort { get; init; }

    /// <summary>The file the settings came from.</summary>
    public string? SourceFile { get; init; }

    private bool PrintMembers(StringBuilder builder)
    {
        builder.Append($"PgHost = {PgHost}, PgPort = {PgPort}, PgUserName = {PgUserName}, PgPassword = ***, PgDbName = {PgDbName}, ProdDbName = {ProductionDatabase}, ");
        builder.Append($"DataSyncFreqSeconds = {DataSyncFreqSeconds}, MetricFreqHours = {MetricFreqHours}, ArchiveDir = {ArchiveDir}, ");
        builder.Append($"BaseBackupDir = {BaseBackupDir}, PgBinDir = {PgBinDir}, PgOsUser = {PgOsUser}, StateDir = {StateDir}, ");
        builder.Append($"ControlPort = {ControlPort}, OnConflict = {OnConflict}, SchemaChanges = {SchemaChanges}, SpoolWarnMb = {SpoolWarnMb}, MetricsPort = {MetricsPort}, SourceFile = {SourceFile}");
        return true;
    }
}
