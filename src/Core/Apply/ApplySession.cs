using DataSync.Core.Configuration;
using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Core.Apply;

/// <summary>
/// A local connection for applying: like PostgreSQL's own logical replication it runs with
/// session_replication_role = replica, so local triggers and foreign-key checks do not fire a second
/// time for changes production already checked. A user who may not set it gets the GRANT to run.
/// </summary>
public static class ApplySession
{
    public static async Task<NpgsqlConnection> OpenAsync(NpgsqlDataSource local, DataSyncSettings settings, CancellationToken cancellationToken)
    {
        var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var command = new NpgsqlCommand("SET session_replication_role = replica", connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException(Refused(settings), e);
        }

        return connection;
    }

    /// <summary>What <c>status</c> checks for <c>start</c>: null when the local user may set session_replication_role, else what to run.</summary>
    public static async Task<string?> ProblemAsync(NpgsqlDataSource local, DataSyncSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            await (await OpenAsync(local, settings, cancellationToken).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            return null;
        }
        catch (InvalidOperationException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege })
        {
            return e.Message;
        }
    }

    /// <summary>
    /// A statement of the apply: it runs as long as the local server takes, without the connection's command timeout. A
    /// TRUNCATE or ALTER waits for the table's lock (a local report reading it holds it off), and a count or a round on a
    /// large table scans it; cut off after 30 s they failed like a lost connection, were retried the same way, and a table
    /// too large to count in time never moved on. The wait shows in the local server's pg_stat_activity, as native
    /// logical replication's apply does.
    /// </summary>
    public static NpgsqlCommand Command(string sql, NpgsqlConnection connection) => new(sql, connection) { CommandTimeout = 0 };

    /// <summary>A COPY of the apply, without the connection's timeout either (the server answers its end once every row is in, indexes and all).</summary>
    public static async Task<NpgsqlRawCopyStream> CopyAsync(NpgsqlConnection connection, string copyCommand, CancellationToken cancellationToken)
    {
        var copy = await connection.BeginRawBinaryCopyAsync(copyCommand, cancellationToken).ConfigureAwait(false);
        copy.ReadTimeout = 0;
        copy.WriteTimeout = 0;
        return copy;
    }

    private static string Refused(DataSyncSettings settings) =>
        $"the local user '{settings.PgUserName}' (PG_USER_NAME) may not set session_replication_role, which applying needs so local triggers and foreign keys " +
        $"do not fire a second time, so 'datasync start' would fail; as a superuser run: GRANT SET ON PARAMETER session_replication_role TO {SqlIdentifier.Quote(settings.PgUserName)};";
}
