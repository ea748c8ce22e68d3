namespace DataSync.Core.Embedded;

/// <summary>How to create or start one PostgreSQL server instance.</summary>
public sealed record PostgresServerOptions
{
    public required PostgresBinaries Binaries { get; init; }
    public required string DataDirectory { get; init; }
    public required int Port { get; init; }
    public ServerAccount Account { get; init; } = ServerAccount.Current;

    /// <summary>Where the Unix socket goes; by default the folder that holds the data directory.</summary>
    public string? SocketDirectory { get; init; }

    /// <summary>TCP addresses to listen on; empty for none (a temporary restore reached only by socket).</summary>
    public string ListenAddresses { get; init; } = "127.0.0.1";

    public string Superuser { get; init; } = "postgres";

    /// <summary>initdb's <c>--wal-segsize</c> in MB; null for PostgreSQL's default (16).</summary>
    public int? WalSegmentSizeMb { get; init; }

    /// <summary>initdb's data checksums; null for PostgreSQL's default (on since 18).</summary>
    public bool? DataChecksums { get; init; }

    /// <summary>initdb's encoding.</summary>
    public string Encoding { get; init; } = "UTF8";

    /// <summary>When set, clients authenticate with scram-sha-256 and this password; otherwise they are trusted.</summary>
    public string? SuperuserPassword { get; init; }

    /// <summary>Extra postgresql.conf settings, written verbatim (values quoted as PostgreSQL expects).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    public string EffectiveSocketDirectory => SocketDirectory ?? Path.GetDirectoryName(Path.GetFullPath(DataDirectory))!;
}
