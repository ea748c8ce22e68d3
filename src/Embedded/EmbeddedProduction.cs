using System.Globalization;
using DataSync.Core.Embedded;

namespace DataSync.Embedded;

/// <summary>
/// A throwaway "production" PostgreSQL 18.1 cluster as the tool expects production to be:
/// <c>wal_level = logical</c>, archiving every finished segment into <see cref="ArchiveDirectory"/>,
/// prepared transactions allowed. Used by the demo and, through the test rig, by the integration tests.
/// Disposing stops the server; the folder is the caller's.
/// </summary>
public class EmbeddedProduction : IAsyncDisposable
{
    private int _backups;

    protected EmbeddedProduction(string root, PostgresServer server, ProductionShape shape)
    {
        Root = root;
        Server = server;
        Shape = shape;
    }

    public string Root { get; }
    public PostgresServer Server { get; }
    public string ArchiveDirectory => Path.Combine(Root, "archive");
    public string BackupDirectory => Path.Combine(Root, "backups");
    /// <summary>The default database name; <see cref="DatabaseName"/> is this cluster's.</summary>
    public const string Database = "production";

    /// <summary>How initdb set this cluster up.</summary>
    public ProductionShape Shape { get; }

    /// <summary>The database the workload lives in.</summary>
    public string DatabaseName => Shape.Database;

    /// <param name="root">An empty folder for the data directory, the archive and the backups.</param>
    /// <param name="walCompression">PostgreSQL's wal_compression: off, pglz (lz4 and zstd are not in the embedded build).</param>
    public static Task<EmbeddedProduction> StartAsync(
        PostgresBinaries binaries, ServerAccount account, string root, string walCompression = "off", IReadOnlyDictionary<string, string>? extraSettings = null) =>
        StartAsync(binaries, account, root, walCompression, extraSettings, ProductionShape.Default, (r, s, shape) => new EmbeddedProduction(r, s, shape));

    protected static async Task<T> StartAsync<T>(
        PostgresBinaries binaries, ServerAccount account, string root, string walCompression,
        IReadOnlyDictionary<string, string>? extraSettings, ProductionShape shape, Func<string, PostgresServer, ProductionShape, T> create)
        where T : EmbeddedProduction
    {
        var archive = Path.Combine(root, "archive");
        Directory.CreateDirectory(archive);
        Directory.CreateDirectory(Path.Combine(root, "backups"));

        var settings = new Dictionary<string, string>
        {
            ["wal_level"] = "logical",
            ["archive_mode"] = "on",
            // Copy under a temporary name and rename, as careful production archive commands do,
            // so a reader never sees half a segment under its final name.
            ["archive_command"] = PostgresServer.Quote($"test ! -f {archive}/%f && cp %p {archive}/%f.tmp && mv {archive}/%f.tmp {archive}/%f"),
            ["max_prepared_transactions"] = "20",
            ["max_wal_senders"] = "10",
            ["max_replication_slots"] = "10",
            ["wal_compression"] = walCompression,
            ["fsync"] = "off",
            ["synchronous_commit"] = "off",
            ["shared_buffers"] = "'128MB'",
            ["max_wal_size"] = "'1GB'",
        };
        if (extraSettings is not null)
            foreach (var (key, value) in extraSettings) settings[key] = value;

        var server = new PostgresServer(new PostgresServerOptions
        {
            Binaries = binaries,
            Account = account,
            DataDirectory = Path.Combine(root, "data"),
            Port = PostgresServer.FindFreePort(),
            Settings = settings,
            Superuser = shape.Superuser,
            WalSegmentSizeMb = shape.WalSegmentSizeMb,
            DataChecksums = shape.DataChecksums,
            Encoding = shape.Encoding,
        });
        var cluster = create(root, server, shape);
        try
        {
            await server.InitAsync().ConfigureAwait(false);
            await server.StartAsync().ConfigureAwait(false);
            // TEMPLATE template0: a database in another encoding than template1's needs it.
            await server.ExecuteAsync($"CREATE DATABASE {QuoteIdentifier(shape.Database)} TEMPLATE template0 ENCODING {PostgresServer.Quote(shape.Encoding)}").ConfigureAwait(false);
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return cluster;
    }

    public Task ExecuteAsync(string sql) => Server.ExecuteAsync(sql, DatabaseName);

    public Task<T> QueryScalarAsync<T>(string sql) => Server.QueryScalarAsync<T>(sql, DatabaseName);

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Ends the current WAL segment and waits until the archiver has stored it.
    /// Returns the archived segment's file name.
    /// </summary>
    public async Task<string> SwitchSegmentAndWaitArchivedAsync(TimeSpan? timeout = null)
    {
        // A switch in an empty segment is a no-op; a logical message makes sure there is something to end.
        await ExecuteAsync("SELECT pg_logical_emit_message(false, 'datasync-test', 'segment switch')").ConfigureAwait(false);
        var segment = await QueryScalarAsync<string>("SELECT pg_walfile_name(pg_current_wal_insert_lsn())").ConfigureAwait(false);
        await ExecuteAsync("SELECT pg_switch_wal()").ConfigureAwait(false);
        await WaitArchivedAsync(segment, timeout ?? TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        return segment;
    }

    /// <summary>Waits until <paramref name="segment"/> is complete in the archive folder.</summary>
    public async Task WaitArchivedAsync(string segment, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var path = Path.Combine(ArchiveDirectory, segment);
        while (!File.Exists(path))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"segment {segment} did not reach the archive {ArchiveDirectory} within {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; server log:\n{Server.TailOfLog()}");
            }

            // Polling, with a deadline, for the server's archive_command (another process) to have copied the file.
            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>The archived segment files in name (and so LSN) order, leaving out history and backup files.</summary>
    public IReadOnlyList<string> ArchivedSegments() =>
        Directory.EnumerateFiles(ArchiveDirectory)
            .Where(f => Path.GetFileName(f).Length == 24 && Path.GetFileName(f).All(char.IsAsciiHexDigitUpper))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Takes a base backup with the low-level API into a new folder under <see cref="BackupDirectory"/>.</summary>
    /// <param name="gzip">Tar format: gzip-compressed tars (pg_basebackup -Ft -z).</param>
    /// <param name="manifest">Writes a backup_manifest.</param>
    public Task<BaseBackupInfo> TakeBaseBackupAsync(BaseBackupFormat format, bool gzip = false, bool manifest = false)
    {
        var destination = Path.Combine(BackupDirectory, $"backup-{Interlocked.Increment(ref _backups):D3}-{format.ToString().ToLowerInvariant()}");
        return LowLevelBaseBackup.TakeAsync(Server, destination, format, CancellationToken.None, gzip, manifest);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
