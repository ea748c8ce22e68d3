using System.Globalization;
using System.Text;
using DataSync.Core.Embedded;
using DataSync.Wal;
using Npgsql;
using NpgsqlTypes;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// A base backup restored under STATE_DIR and started as a hot standby that replays the archived
/// WAL and then pauses: a read-only view of production at one exact WAL position, from which the
/// catalog is read and the synced tables are copied. It listens on no TCP address, only on a socket
/// in a folder of mode 0700 that only the server account (and root) can enter, and it lets in only the
/// daemon's own OS user (peer authentication), as production's superuser: the copy is all of production.
/// It is stopped and deleted on dispose (or by <see cref="RemoveLeftoversAsync"/> after a crash).
/// </summary>
public sealed class TemporaryRestore : IAsyncDisposable
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly PostgresServer _server;
    private readonly TemporaryRestoreOptions _options;
    private string? _superuser;

    private TemporaryRestore(string root, string socketDirectory, PostgresServer server, RestoreIdentity identity, TemporaryRestoreOptions options)
    {
        Root = root;
        SocketDirectory = socketDirectory;
        _server = server;
        Identity = identity;
        _options = options;
        Snapshot = new RestoreSnapshot(Lsn.Invalid, 0, 0, []);
    }

    /// <summary>The restore's folder (data directory, log; the socket too unless the path is too long for one).</summary>
    public string Root { get; }

    /// <summary>The folder of the restore's Unix socket (mode 0700).</summary>
    public string SocketDirectory { get; }

    /// <summary>The port number in the socket's name (nothing listens on TCP).</summary>
    public int Port => _server.Port;

    /// <summary>Production's superuser candidates and databases, as the restored files show them.</summary>
    public RestoreIdentity Identity { get; }

    /// <summary>The role the restore was reached as, once a connection succeeded.</summary>
    public string? Superuser => _superuser;

    /// <summary>Where replay is paused and what is in progress there.</summary>
    public RestoreSnapshot Snapshot { get; private set; }

    /// <summary>
    /// Lets replay go on to <paramref name="target"/> (WAL the spool has gained since) and pauses again: a
    /// later point, for when a transaction running at the first one began before the WAL decoding starts from.
    /// </summary>
    public async Task<RestoreSnapshot> AdvanceAsync(Lsn target, CancellationToken cancellationToken)
    {
        await using (var connection = await ConnectAsync(Identity.MaintenanceDatabase, cancellationToken).ConfigureAwait(false))
        await using (var resume = new NpgsqlCommand("SELECT pg_wal_replay_resume()", connection))
            await resume.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        _options.LiveProgress?.Replaying(Snapshot.ReplayLsn, target);
        Snapshot = await ReplayAndPauseAsync(target, cancellationToken).ConfigureAwait(false);
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
        Directory.CreateDirectory(root, OwnerOnly);
        LeftoverServers.Claim(root);
        var data = Path.Combine(root, "data");
        // Unix socket paths are limited to 107 bytes; a deep STATE_DIR gets a short private folder (mode 0700) instead.
        var socketDirectory = root.Length <= 80 ? root : Directory.CreateTempSubdirectory("datasync-sock-").FullName;
        TemporaryRestore? restore = null;
        try
        {
            options.Progress?.Report($"restoring base backup {options.Backup.Name} (start {options.Backup.Label.StartLsn}) into {data}");
            // Each phase's time is in its line, so the daemon log shows where a bootstrap's time goes.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            options.Backup.ExtractTo(data, options.LiveProgress);
            options.Progress?.Report(string.Create(CultureInfo.InvariantCulture,
                $"restored {Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Count()} files in {clock.Elapsed.TotalSeconds:F1} s"));
            clock.Restart();

            var limits = ControlFileSettings.Read(Path.Combine(data, "global", "pg_control"));
            if (limits.WalLevel != ControlFileSettings.LogicalWalLevel)
                throw new InvalidDataException($"base backup {options.Backup.Directory} was taken with wal_level {limits.WalLevel}, not logical: its WAL cannot be decoded");

            var target = options.TargetLsn;
            if (BackupEnd.TakenOnStandby(data))
            {
                // A standby's backup ends where its copied pg_control says recovery must reach; no .backup file tells it.
                var end = BackupEnd.MinRecoveryPoint(data);
                if (end > options.AvailableWalEnd)
                {
                    throw new WalNotYetArchivedException(
                        $"base backup {options.Backup.Name} was taken on a standby and is consistent only at {end} (pg_control's minimum recovery point), " +
                        $"but the archive's WAL after its start ends at {options.AvailableWalEnd}: waiting for production to archive the rest");
                }

                if (end > target)
                {
                    if (options.StopExactlyAtTarget)
                    {
                        throw new InvalidOperationException(
                            $"base backup {options.Backup.Name} was taken on a standby and is consistent only at {end} (pg_control's minimum recovery point), " +
                            $"after {target}, where replay has to stop");
                    }

                    target = end;
                }
            }

            // From here until replay reaches the target, the bootstrap is replaying: starting the server is its first part.
            options.LiveProgress?.Replaying(options.Backup.Label.StartLsn, target);
            var identity = RestoreIdentity.Read(data);
            var server = new PostgresServer(new PostgresServerOptions
            {
                Binaries = options.Binaries,
                Account = options.Account,
                DataDirectory = data,
                Port = PostgresServer.FindFreePort(),
                ListenAddresses = "",
                SocketDirectory = socketDirectory,
                Superuser = identity.Superusers[0],
            });
            restore = new TemporaryRestore(root, socketDirectory, server, identity, options);
            await WriteConfigurationAsync(data, socketDirectory, server.Port, options, limits, identity, cancellationToken).ConfigureAwait(false);
            await options.Account.TakeOwnershipAsync(root, cancellationToken).ConfigureAwait(false);
            if (socketDirectory != root) await options.Account.TakeOwnershipAsync(socketDirectory, cancellationToken).ConfigureAwait(false);
            File.SetUnixFileMode(root, OwnerOnly);
            File.SetUnixFileMode(socketDirectory, OwnerOnly);
            File.SetUnixFileMode(data, OwnerOnly);
            await server.StartAsync(cancellationToken).ConfigureAwait(false);

            restore.Snapshot = await restore.ReplayAndPauseAsync(target, cancellationToken).ConfigureAwait(false);
            options.Progress?.Report(string.Create(CultureInfo.InvariantCulture,
                $"replay paused at {restore.Snapshot.ReplayLsn} ({clock.Elapsed.TotalSeconds:F1} s to start the restore and replay); {restore.Snapshot.InProgress.Count} transaction(s) in progress there"));
            return restore;
        }
        catch
        {
            if (restore is not null) await restore.StopAsync().ConfigureAwait(false);
            Delete(root, options.Progress);
            if (socketDirectory != root) Delete(socketDirectory, options.Progress);
            throw;
        }
    }

    /// <summary>A read-only connection to a database of the paused restore, as production's superuser.</summary>
    public Task<NpgsqlConnection> OpenAsync(string database, CancellationToken cancellationToken = default) => ConnectAsync(database, cancellationToken);

    /// <summary>The databases the restore holds (that accept connections), by name.</summary>
    public async Task<IReadOnlyList<string>> DatabasesAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await ConnectAsync(Identity.MaintenanceDatabase, cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname", connection);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) names.Add(reader.GetString(0));
        return names;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        Delete(Root, _options.Progress);
        if (SocketDirectory != Root) Delete(SocketDirectory, _options.Progress);
    }

    /// <summary>
    /// Connects as production's superuser. Which of the candidate names that is becomes sure only now: the
    /// files may hold an older version of a renamed role, so each is tried until the server knows one.
    /// </summary>
    private async Task<NpgsqlConnection> ConnectAsync(string database, CancellationToken cancellationToken)
    {
        var candidates = _superuser is null ? Identity.Superusers : [_superuser, .. Identity.Superusers.Where(s => s != _superuser)];
        PostgresException? unknownRole = null;
        foreach (var role in candidates)
        {
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
            {
                Host = SocketDirectory,
                Port = Port,
                Username = role,
                Database = database,
                Pooling = false,
                Timeout = 30,
                CommandTimeout = 600,
            }.ConnectionString);
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                _superuser = role;
                return connection;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidAuthorizationSpecification)
            {
                // 28000: no such role (or peer authentication refused it); the next candidate may be the one.
                await connection.DisposeAsync().ConfigureAwait(false);
                unknownRole = e;
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        throw new InvalidOperationException(
            $"the temporary restore of base backup {_options.Backup.Name} accepts none of the superusers its pg_authid shows " +
            $"({string.Join(", ", Identity.Superusers.Select(s => $"\"{s}\""))}) from OS user {Environment.UserName}: {unknownRole?.MessageText}; server log {_server.LogFile}:\n{_server.TailOfLog()}",
            unknownRole);
    }

    /// <summary>
    /// Replaces the backup's configuration: production's own postgresql.conf may name paths, ports,
    /// certificates or memory sizes that do not exist here, and its pg_hba.conf may shut us out or let
    /// others in. Limits that hot standby checks against the WAL are taken from production's pg_control.
    /// </summary>
    private static async Task WriteConfigurationAsync(string data, string socketDirectory, int port, TemporaryRestoreOptions options, ControlFileSettings limits,
        RestoreIdentity identity, CancellationToken cancellationToken)
    {
        var conf = new StringBuilder();
        conf.AppendLine("# written by datasync for a temporary, paused restore");
        conf.AppendLine(CultureInfo.InvariantCulture, $"port = {port}");
        conf.AppendLine("listen_addresses = ''");
        conf.AppendLine(CultureInfo.InvariantCulture, $"unix_socket_directories = {PostgresServer.Quote(socketDirectory)}");
        conf.AppendLine("unix_socket_permissions = 0700");
        conf.AppendLine("hot_standby = on");
        conf.AppendLine("archive_mode = off");
        conf.AppendLine(CultureInfo.InvariantCulture, $"restore_command = {PostgresServer.Quote($"cp {ShellQuote(options.WalDirectory)}/%f %p")}");
        conf.AppendLine("recovery_target_timeline = 'latest'");
        if (options.StopExactlyAtTarget)
        {
            // Replay stops by itself after the first record starting at or after the target and waits there, paused.
            conf.AppendLine(CultureInfo.InvariantCulture, $"recovery_target_lsn = '{options.TargetLsn}'");
            conf.AppendLine("recovery_target_inclusive = on");
            conf.AppendLine("recovery_target_action = 'pause'");
        }

        conf.AppendLine("shared_buffers = '128MB'");
        // The restore is thrown away after the copy, and after a crash it is deleted, never reused: nothing it writes needs
        // to reach the disk. Without this the server's start alone flushes the whole freshly copied data directory to disk.
        conf.AppendLine("fsync = off");
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
        // Only the daemon's OS user gets in, over the socket only, and only as production's superuser candidates.
        await File.WriteAllTextAsync(Path.Combine(data, "pg_hba.conf"), "local all all peer map=datasync\n", cancellationToken).ConfigureAwait(false);
        var ident = new StringBuilder();
        foreach (var role in identity.Superusers)
            ident.AppendLine(CultureInfo.InvariantCulture, $"datasync {IdentToken(Environment.UserName)} {IdentToken(role)}");
        await File.WriteAllTextAsync(Path.Combine(data, "pg_ident.conf"), ident.ToString(), cancellationToken).ConfigureAwait(false);
        foreach (var signal in new[] { "recovery.signal", "standby.signal" }) File.Delete(Path.Combine(data, signal));
        // Standby mode: recovery never ends by itself, so the copy stays a read-only view of production.
        await File.WriteAllTextAsync(Path.Combine(data, "standby.signal"), "", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A pg_ident.conf field: double-quoted, so a name with spaces or a leading slash stays literal.</summary>
    private static string IdentToken(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private async Task<RestoreSnapshot> ReplayAndPauseAsync(Lsn target, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _options.ReplayTimeout;
        var lastReported = Lsn.Invalid;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var replayed = await ReplayLsnAsync(cancellationToken).ConfigureAwait(false);
            if (replayed.IsValid) _options.LiveProgress?.Replayed(replayed);
            // Stopping exactly, the record at the target must have been replayed (its end lies past it); asking for a pause
            // as soon as the replay reaches the target could stop just before that record.
            if (_options.StopExactlyAtTarget ? replayed > target : replayed >= target) break;
            if (replayed != lastReported && replayed.IsValid)
            {
                _options.Progress?.Report($"replayed up to {replayed} of {target}");
                lastReported = replayed;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"the temporary restore replayed only to {replayed} of {target} within {_options.ReplayTimeout}; is a WAL segment missing from {_options.WalDirectory}? server log {_server.LogFile}:\n{_server.TailOfLog()}");
            }

            // Polling, with a deadline, the restore server (another process) for its replay position: it tells no one when it gets there.
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        await using var connection = await ConnectAsync(Identity.MaintenanceDatabase, cancellationToken).ConfigureAwait(false);
        await using (var pause = new NpgsqlCommand("SELECT pg_wal_replay_pause()", connection))
            await pause.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            await using var state = new NpgsqlCommand("SELECT pg_get_wal_replay_pause_state()", connection);
            if ((string)(await state.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! == "paused") break;
            // Polling the restore server until its replay has paused, which it does soon after being asked.
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        // A hot standby's snapshot keeps its running transactions out of pg_snapshot_xip (they live in
        // its subtransaction array), so the in-progress set is read from the commit log instead: every
        // xid in [xmin, xmax) that is neither committed nor aborted at the pause point.
        await using var snapshot = new NpgsqlCommand("""
            SELECT pg_last_wal_replay_lsn(), pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text,
                   coalesce((SELECT array_agg(x::text ORDER BY x)
                             FROM generate_series(pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint - 1) x
                             WHERE pg_xact_status(x::text::xid8) = 'in progress'), '{}')
            FROM pg_current_snapshot() s
            """, connection);
        await using var reader = await snapshot.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new RestoreSnapshot(
            reader.GetLsn(0),
            ulong.Parse(reader.GetString(1), CultureInfo.InvariantCulture),
            ulong.Parse(reader.GetString(2), CultureInfo.InvariantCulture),
            reader.GetFieldValue<string[]>(3).Select(x => ulong.Parse(x, CultureInfo.InvariantCulture)).ToList());
    }

    private async Task<Lsn> ReplayLsnAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await ConnectAsync(Identity.MaintenanceDatabase, cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT pg_last_wal_replay_lsn()", connection);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is NpgsqlLogSequenceNumber replayed ? replayed.ToLsn() : Lsn.Invalid;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CannotConnectNow)
        {
            // Not consistent yet: the server refuses connections until replay passes the backup's end.
            return Lsn.Invalid;
        }
    }

    /// <summary>Quotes a path for the shell that runs restore_command.</summary>
    private static string ShellQuote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private async Task StopAsync()
    {
        try
        {
            await _server.StopAsync("immediate").ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            // Usually already gone; if not, deleting its folder below fails and says so.
            _options.Progress?.Report($"warning: stopping the temporary restore in {Root} failed: {e.Message}");
        }
    }

    /// <summary>
    /// Removes a restore folder. It holds a full copy of production, so a failure is reported (with the
    /// folder and the reason), not swallowed; the next daemon start removes what is left.
    /// </summary>
    private static void Delete(string folder, IProgress<string>? progress)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            progress?.Report($"warning: could not remove {folder}, which holds a copy of production: {e.Message}; " +
                "it is removed when the daemon next starts, or remove it by hand");
        }
    }
}
