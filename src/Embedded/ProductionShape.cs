namespace DataSync.Embedded;

/// <summary>
/// How a throwaway production cluster is set up by initdb: the settings real installations vary and
/// that the tool must not assume (superuser name, database name, WAL segment size, data checksums,
/// encoding). The defaults are the suite's usual cluster.
/// </summary>
public sealed record ProductionShape
{
    public static ProductionShape Default { get; } = new();

    /// <summary>initdb's <c>-U</c>: many installations name their superuser something other than postgres.</summary>
    public string Superuser { get; init; } = "postgres";

    /// <summary>The database the workload lives in.</summary>
    public string Database { get; init; } = EmbeddedProduction.Database;

    /// <summary>initdb's <c>--wal-segsize</c> in MB (a power of two from 1 to 1024); null for the default 16.</summary>
    public int? WalSegmentSizeMb { get; init; }

    /// <summary>initdb's data checksums (on by default since PostgreSQL 18).</summary>
    public bool DataChecksums { get; init; } = true;

    /// <summary>The cluster's (and so the database's) encoding.</summary>
    public string Encoding { get; init; } = "UTF8";

    public long WalSegmentSizeBytes => (WalSegmentSizeMb ?? 16) * 1024L * 1024L;
}
