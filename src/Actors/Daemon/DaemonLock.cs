using Npgsql;

namespace DataSync.Actors.Daemon;

/// <summary>
/// One daemon per local database: a PostgreSQL session-level advisory lock held on a dedicated
/// connection for the daemon's lifetime. The server releases it when the process dies, so a killed
/// daemon never blocks the next start. It also releases it when the local server restarts: the daemon
/// then takes it again once the database is back (<see cref="KeepAsync"/>), or stops if another took it.
/// </summary>
public sealed class DaemonLock : IAsyncDisposable
{
    // An arbitrary constant shared by every datasync daemon: "the daemon lock".
    private const long LockKey = 0x44617461_44616d6e; // "DataDamn"

    private NpgsqlConnection _connection;

    private DaemonLock(NpgsqlConnection connection) => _connection = connection;

    /// <summary>Takes the lock, or returns null when another daemon holds it.</summary>
    public static async Task<DaemonLock?> TryAcquireAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection);
        if ((bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            return new DaemonLock(connection);
        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// Whether some session holds the lock, read from pg_locks without taking it (so a daemon starting at that
    /// moment is not turned away). A session-level advisory lock on a bigint key shows its high half as classid,
    /// its low half as objid, and objsubid 1.
    /// </summary>
    public static async Task<bool> IsHeldAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT EXISTS (
                SELECT 1 FROM pg_locks
                WHERE locktype = 'advisory' AND granted AND objsubid = 1
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                  AND classid = $1::bigint::oid AND objid = $2::bigint::oid)
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (LockKey >> 32) & 0xFFFFFFFF });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LockKey & 0xFFFFFFFF });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Checks that the lock's session is still there and, when the local server dropped it (a restart, a
    /// terminated backend), takes the lock again on a new session.
    /// </summary>
    public async Task<DaemonLockState> KeepAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        try
        {
            await using var ping = new NpgsqlCommand("SELECT 1", _connection);
            await ping.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return DaemonLockState.Held;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // The session is gone, and the lock with it.
        }

        NpgsqlConnection connection;
        try
        {
            connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            return DaemonLockState.Unknown;
        }

        try
        {
            await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({LockKey})", connection);
            if (!(bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                return DaemonLockState.Lost;
            }
        }
        catch (NpgsqlException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            return DaemonLockState.Unknown;
        }

        await _connection.DisposeAsync().ConfigureAwait(false);
        _connection = connection;
        return DaemonLockState.Regained;
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync().ConfigureAwait(false);
}
