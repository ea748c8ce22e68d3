using Npgsql;

namespace DataSync.Actors.Daemon;

/// <summary>
/// One daemon per local database: a PostgreSQL session-level advisory lock held on a dedicated
/// connection for the daemon's lifetime. The server releases it when the process dies, so a killed
/// daemon never blocks the next start.
/// </summary>
public sealed class DaemonLock : IAsyncDisposable
{
    // An arbitrary constant shared by every datasync daemon: "the daemon lock".
    private const long LockKey = 0x44617461_44616d6e; // "DataDamn"

    private readonly NpgsqlConnection _connection;

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

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync().ConfigureAwait(false);
}
