using Npgsql;

namespace DataSync.Actors.Daemon;

/// <summary>The daemon that holds the database, as recorded in <c>datasync_daemon</c>.</summary>
public sealed record DaemonRecord(int ProcessId, string Host, int ControlPort, DateTimeOffset StartedAt, DateTimeOffset? StoppedAt);

/// <summary>
/// Records the running daemon in the local database: who it is and since when, so a second start
/// can say which process holds the database, and <c>status</c> can answer without a daemon.
/// </summary>
public static class DaemonRegistration
{
    public static async Task RegisterAsync(NpgsqlDataSource dataSource, int controlPort, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO datasync_daemon (singleton, pid, host, control_port, started_at, stopped_at, records_synced, errors)
            VALUES (true, $1, $2, $3, $4, NULL, 0, 0)
            ON CONFLICT (singleton) DO UPDATE SET pid = $1, host = $2, control_port = $3, started_at = $4, stopped_at = NULL, records_synced = 0, errors = 0
            """);
        command.Parameters.AddWithValue(Environment.ProcessId);
        command.Parameters.AddWithValue(Environment.MachineName);
        command.Parameters.AddWithValue(controlPort);
        command.Parameters.AddWithValue(startedAt);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task MarkStoppedAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("UPDATE datasync_daemon SET stopped_at = now() WHERE pid = $1");
        command.Parameters.AddWithValue(Environment.ProcessId);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task<DaemonRecord?> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT pid, host, control_port, started_at, stopped_at FROM datasync_daemon");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new DaemonRecord(
            reader.GetInt32(0), reader.GetString(1), reader.GetInt32(2),
            reader.GetFieldValue<DateTimeOffset>(3),
            reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4));
    }
}
