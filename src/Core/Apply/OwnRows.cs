using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Core.Apply;

/// <summary>
/// How statements name a synced table so that they reach its own rows and no other, on either server. The WAL stream
/// carries an ordinary table's own rows: its inheritance children are tables of their own, and locally they may hold
/// rows of the user's, with the same keys. Without <c>ONLY</c>, a SELECT, DELETE, UPDATE, TRUNCATE or count of the
/// table reaches theirs too. A partitioned table is the opposite: it holds no rows itself, <c>ONLY</c> would reach
/// none (and TRUNCATE refuses it), and its partitions are where its rows are; it is named plainly.
/// </summary>
internal static class OwnRows
{
    /// <summary>The table as statements name it to reach its own rows: <c>ONLY "s"."t"</c>, or <c>"s"."t"</c> when it is partitioned.</summary>
    public static async Task<string> NameAsync(NpgsqlConnection connection, TableName table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT relkind = 'p' FROM pg_class WHERE oid = $1::regclass", connection);
        command.Parameters.AddWithValue(table.Quoted);
        var partitioned = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
        return partitioned ? table.Quoted : "ONLY " + table.Quoted;
    }
}
