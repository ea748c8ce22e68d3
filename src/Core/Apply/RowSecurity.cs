using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Core.Apply;

/// <summary>
/// Whether a table's row-level security applies to the connection's user (its policies, not a bypass as owner, superuser
/// or BYPASSRLS). The server then refuses COPY into the table, so rows go in by INSERT from a staging table, and an
/// update must stay an UPDATE: its DELETE and INSERT policies are not its UPDATE ones.
/// </summary>
internal static class RowSecurity
{
    public static async Task<bool> ActiveAsync(NpgsqlConnection connection, TableName table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT row_security_active($1::regclass)", connection);
        command.Parameters.AddWithValue(table.Quoted);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }
}
