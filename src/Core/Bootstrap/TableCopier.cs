using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Copies one table from the paused restore into the local database as binary COPY, streamed:
/// production's exact bytes, no text round trip, no rows held in memory. Generated columns are left
/// to the local table to compute, as PostgreSQL's own logical replication does.
/// </summary>
public static class TableCopier
{
    /// <summary>The columns COPY can carry for <paramref name="table"/>, in column order, as the source server has them.</summary>
    public static async Task<IReadOnlyList<string>> CopyableColumnsAsync(NpgsqlConnection source, TableName table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT a.attname
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attnum
            """, source);
        command.Parameters.AddWithValue(table.Schema);
        command.Parameters.AddWithValue(table.Name);
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) columns.Add(reader.GetString(0));
        if (columns.Count == 0)
            throw new InvalidOperationException($"table {table} does not exist in production's database '{source.Database}' at the restore point");
        return columns;
    }

    /// <summary>
    /// Streams the rows of <paramref name="table"/> from <paramref name="source"/> into the same table
    /// through <paramref name="target"/> (which must be in the transaction that empties and checkpoints it). Returns the row count.
    /// </summary>
    public static async Task<long> CopyAsync(NpgsqlConnection source, NpgsqlConnection target, TableName table, IReadOnlyList<string> columns, CancellationToken cancellationToken)
    {
        var columnList = string.Join(", ", columns.Select(SqlIdentifier.Quote));
        await using (var reader = await source.BeginRawBinaryCopyAsync($"COPY (SELECT {columnList} FROM {table.Quoted}) TO STDOUT (FORMAT binary)", cancellationToken).ConfigureAwait(false))
        await using (var writer = await target.BeginRawBinaryCopyAsync($"COPY {table.Quoted} ({columnList}) FROM STDIN (FORMAT binary)", cancellationToken).ConfigureAwait(false))
        {
            await reader.CopyToAsync(writer, 1 << 16, cancellationToken).ConfigureAwait(false);
        }

        await using var count = new NpgsqlCommand($"SELECT count(*) FROM {table.Quoted}", target);
        return (long)(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }
}
