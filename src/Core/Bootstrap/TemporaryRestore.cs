using System.Globalization;
using System.Text;
using DataSync.Core.Embedded;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// A base backup restored under STATE_DIR and started as a hot standby that replays the archived
/// WAL and then pauses: a read-only view of production at one exact WAL position, from which the
/// catalog is read and the synced tables are copied. It listens on no TCP address, only on a socket
/// in its own folder, and is stopped and deleted on dispose (or by <see cref="RemoveLeftoversAsync"/>
/// after a crash).
/// </summary>
public sealed class TemporaryRestore : IAsyncDisposable
{
    private readonly PostgresServer _server;

    private readonly string _socketDirectory;
    private readonly TemporaryRestoreOptions _options;

    private TemporaryRestore(string root, string socketDirectory, PostgresServer server, RestoreSnapshot snapshot, TemporaryRestoreOptions options)
    {
        Root = root;
        _socketDirectory = socketDirectory;
        _server = server;
        Snapshot = snapshot;
        _options = options;
    }

    /// <summary>The restore's folder (data directory, socket, log).</summary>
    public string Root { get; }

    /// <summary>Where replay is paused and what is in progress there.</summary>
    public RestoreSnapshot Snapshot { get; private set; }

    /// <summary>
    /// Lets replay go on to <paramref name="target"/> (WAL the spool has gained since) and pauses again: a
    /// later point, for when a transaction running at the first one began before the WAL decoding starts from.
    /// </summary>
    public async Task<RestoreSnapshot> AdvanceAsync(Lsn target, CancellationToken cancellationToken)
    {
        await using (var connection = await _server.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        await using (var resume = new NpgsqlCommand("SELECT pg_wal_replay_resume()", connection))
            await resume.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        Snapshot = await ReplayAndPauseAsync(_server, _options with { TargetLsn = target }, cancellationToken).ConfigureAwait(false);
        _options.Progress?.Report($"replay paused again at {Snapshot.ReplayLsn}; {Snapshot.InProgress.Count} transaction(s) in progress there");
        return Snapshot;
    }

    public static string RestoresFolder(string stateDirectory) => Path.Combine(stateDirectory, "restores");

    /// <summary>Stops and deletes restores whose process died before cleaning up. Returns the folders removed.</summary>
    public static Task<IReadOnlyList<string>> RemoveLeftoversAsync(string stateDirectory, PostgresBinaries binaries, ServerAccount account) =>
        LeftoverServers.RemoveAsync(RestoresFolder(stateDirectory), binaries, account);

    public static async Task<TemporaryRestore> StartAsync(TemporaryRestoreOptions options, CancellationToken cancellationToken = default)
    {
        var restores = RestoresFolder(options.StateDirectory);
        Directory.CreateDirectory(restores);
        // The server account must reach its folder through STATE_DIR/restores.
        File.SetUnixFileMode(restores, (UnixFileMode)0b111_101_101);
        var root = Path.Combine(restores, $"restore-{DateTime.UtcNow:yyyyMMddHHmmss}-{Environment.ProcessId}");
        Directory.CreateDirectory(root);
        LeftoverServers.Claim(root);
        var data = Path.Combine(root, "data");
        // Unix socket paths are limited to 107 bytes; a deep STATE_DIR gets a short private folder instead.
        var socketDirectory = root.Length <= 80 ? root : Directory.CreateTempSubdirectory("datasync-sock-").FullName;
        PostgresServer? server = null;
        try
        {
            options.Progress?.Report($"restoring base backup {options.Backup.Name} (start {options.Backup.Label.StartLsn}) into {data}");
            options.Backup.ExtractTo(data);
            options.Progress?.Report($"restored {Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Count()} files");

            var limits = ControlFileSettings.Read(Path.Combine(data, "global", "pg_control"));
            if (limits.WalLevel != ControlFileSettings.LogicalWalLevel)
                throw new InvalidDataException($"base backup {options.Backup.Directory} was taken with wal_level {limits.WalLevel}, not logical: its WAL cannot be decoded");

            server = new PostgresServer(new PostgresServerOptions
            {
                Binaries = options.Binaries,
                Account = options.Account,
                DataDirectory = data,
                Port = PostgresServer.FindFreePort(),
                ListenAddresses = "",
                SocketDirectory = socketDirectory,
            });
            await WriteConfigurationAsync(data, socketDirectory, server.Port, options, limits, cancellationToken).ConfigureAwait(false);
            await options.Account.TakeOwnershipAsync(root, cancellationToken).ConfigureAwait(false);
            if (socketDirectory != root) await options.Account.TakeOwnershipAsync(socketDirectory, cancellationToken).ConfigureAwait(false);
            File.SetUnixFileMode(data, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);

            var snapshot = await ReplayAndPauseAsync(server, options, cancellationToken).ConfigureAwait(false);
            options.Progress?.Report($"replay paused at {snapshot.ReplayLsn}; {snapshot.InProgress.Count} transaction(s) in progress there");
            return new TemporaryRestore(root, socketDirectory, server, snapshot, options);
        }
        catch
        {
            if (server is not null) await StopQuietlyAsync(server).ConfigureAwait(false);
            DeleteQuietly(root);
            DeleteQuietly(socketDirectory);
            throw;
        }
    }

    /// <summary>A read-only connection to a database of the paused restore.</summary>
    public async Task<NpgsqlConnection> OpenAsync(string database, CancellationToken cancellationToken = default)
    {
        try
        {
            return await _server.OpenAsync(database, cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            throw new InvalidOperationException($"the base backup has no database '{database}' (PROD_DB_NAME)", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopQuietlyAsync(_server).ConfigureAwait(false);
        DeleteQuietly(Root);
        DeleteQuietly(_socketDirectory);
    }

    /// <summary>
    /// Replaces the backup's configuration: production's own postgresql.conf may name paths, ports,
    /// certificates or memory sizes that do not exist here, and its pg_hba.conf may shut us out.
    /// Limits that hot standby checks against the WAL are taken from production's pg_control.
    /// </summary>
    private static async Task WriteConfigurationAsync(string data, string socketDirectory, int port, TemporaryRestoreOptions options, ControlFileSettings limits, CancellationToken cancellationToken)
    {
        var conf = new StringBuilder();
        conf.AppendLine("# written by datasync for a temporary, paused restore");
        conf.AppendLine(CultureInfo.InvariantCulture, $"port = {port}");
        conf.AppendLine("listen_addresses = ''");
        conf.AppendLine(CultureInfo.InvariantCulture, $"unix_socket_directories = {PostgresServer.Quote(socketDirectory)}");
        conf.AppendLine("hot_standby = on");
        conf.AppendLine("archive_mode = off");
        conf.AppendLine(CultureInfo.InvariantCulture, $"restore_command = {PostgresServer.Quote($"cp {ShellQuote(options.WalDirectory)}/%f %p")}");
        conf.AppendLine("recovery_target_timeline = 'latest'");
        conf.AppendLine("shared_buffers = '128MB'");
        // The server refuses to start with min_wal_size under two segments: the defaults do not fit 64 MiB+ segments.
        var segmentMb = limits.WalSegmentSize / (1024 * 1024);
        conf.AppendLine(CultureInfo.InvariantCulture, $"min_wal_size = '{Math.Max(80, 2 * segmentMb)}MB'");
        conf.AppendLine(CultureInfo.InvariantCulture, $"max_wal_size = '{Math.Max(1024, 4 * segmentMb)}MB'");
        conf.AppendLine("max_standby_archive_delay = -1");
        conf.AppendLine("wal_retrieve_retry_interval = '200ms'");
        conf.AppendLine(CultureInfo.InvariantCulture, $"max_connections = {Math.Max(limits.MaxConnections, 20)}");
        conf.AppendLine(CultureInfo.InvariantCulture, $"max_worker_processes = {Math.Max(limits.MaxWorkerProcesses, 8)}");
        conf.AppendLine(CultureInfo.InvariantCulture, $"max_wal_senders = {limits.MaxWalSenders}");
        conf.AppendLine(CultureInfo.InvariantCulture, $"max_prepared_transactions = {limits.MaxPreparedTransactions}");
        conf.AppendLine(CultureInfo.InvariantCulture, $"max_locks_per_transaction = {Math.Max(limits.MaxLocksPerTransaction, 64)}");
        conf.AppendLine("logging_collector = off");
        conf.AppendLine("ssl = off");
        await File.WriteAllTextAsync(Path.Combine(data, "postgresql.conf"), conf.ToString(), cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(data, "postgresql.auto.conf"), "# emptied by datasync: production's ALTER SYSTEM settings do not apply here\n", cancellationToken).ConfigureAwait(false);
        // Only the socket in the restore's own folder (mode 0755 folder, server account) reaches it.
        await File.WriteAllTextAsync(Path.Combine(data, "pg_hba.conf"), "local all all trust\n", cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(data, "pg_ident.conf"), "", cancellationToken).ConfigureAwait(false);
        foreach (var signal in new[] { "recovery.signal", "standby.signal" }) File.Delete(Path.Combine(data, signal));
        // Standby mode: recovery never ends by itself, so the copy stays a read-only view of production.
        await File.WriteAllTextAsync(Path.Combine(data, "standby.signal"), "", cancellationToken).ConfigureAwait(false);
    }

    private static async Task<RestoreSnapshot> ReplayAndPauseAsync(PostgresServer server, TemporaryRestoreOptions options, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + options.ReplayTimeout;
        var lastReported = Lsn.Invalid;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var replayed = await ReplayLsnAsync(server, cancellationToken).ConfigureAwait(false);
            if (replayed >= options.TargetLsn) break;
            if (replayed != lastReported && replayed.IsValid)
            {
                options.Progress?.Report($"replayed up to {replayed} of {options.TargetLsn}");
                lastReported = replayed;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"the temporary restore replayed only to {replayed} of {options.TargetLsn} within {options.ReplayTimeout}; is a WAL segment missing from {options.WalDirectory}? server log:\n{server.TailOfLog()}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        await using var connection = await server.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await using (var pause = new NpgsqlCommand("SELECT pg_wal_replay_pause()", connection))
            await pause.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            await using var state = new NpgsqlCommand("SELECT pg_get_wal_replay_pause_state()", connection);
            if ((string)(await state.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == "paused") break;
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        // A hot standby's snapshot keeps its running transactions out of pg_snapshot_xip (they live in
        // its subtransaction array), so the in-progress set is read from the commit log instead: every
        // xid in [xmin, xmax) that is neither committed nor aborted at the pause point.
        await using var snapshot = new NpgsqlCommand("""
            SELECT pg_last_wal_replay_lsn()::text, pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text,
                   coalesce((SELECT array_agg(x::text ORDER BY x)
                             FROM generate_series(pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint - 1) x
                             WHERE pg_xact_status(x::text::xid8) = 'in progress'), '{}')
            FROM pg_current_snapshot() s
            """, connection);
        await using var reader = await snapshot.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new RestoreSnapshot(
            Lsn.Parse(reader.GetString(0)),
            ulong.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
            ulong.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
            reader.GetFieldValue<string[]>(3).Select(x => ulong.Parse(x, CultureInfo.InvariantCulture)).ToList());
    }

    private static async Task<Lsn> ReplayLsnAsync(PostgresServer server, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await server.OpenAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT pg_last_wal_replay_lsn()::text", connection);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string text ? Lsn.Parse(text) : Lsn.Invalid;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CannotConnectNow)
        {
            // Not consistent yet: the server refuses connections until replay passes the backup's end.
            return Lsn.Invalid;
        }
    }

    /// <summary>Quotes a path for the shell that runs restore_command.</summary>
    private static string ShellQuote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static async Task StopQuietlyAsync(PostgresServer server)
    {
        try
        {
            await server.StopAsync("immediate").ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    private static void DeleteQuietly(string root)
    {
        try
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // RemoveLeftoversAsync takes it on the next start.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
