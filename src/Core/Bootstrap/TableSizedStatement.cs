using Npgsql;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Runs a statement of a table copy (a bootstrap's or a repair's) on the local side whose time grows with the table: building an index over the copied rows,
/// moving staged rows into the table. It has no client-side time limit: with the connection's default (Npgsql's 30 s) a
/// table big enough to take longer would fail its copy at every attempt. A stop's cancellation still ends it.
/// </summary>
internal static class TableSizedStatement
{
    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
