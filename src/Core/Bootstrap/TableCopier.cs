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
    /// <summary>
    /// About how many rows <paramref name="table"/> holds in <paramref name="source"/>, without reading them: the rows per page
    /// its statistics saw (reltuples / relpages, as the planner estimates) times the pages it has now, summed over the
    /// partitions of a partitioned table. Null when a part with pages has never been vacuumed or analyzed (no statistics).
    /// </summary>
    public static async Task<long?> EstimateRowsAsync(NpgsqlConnection source, TableName table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT CASE WHEN count(*) = count(part.estimate) THEN sum(part.estimate)::bigint END
            FROM (SELECT CASE WHEN pages.now = 0 THEN 0
                              WHEN c.reltuples >= 0 AND c.relpages > 0 THEN c.reltuples / c.relpages * pages.now
                              WHEN c.reltuples >= 0 THEN c.reltuples END AS estimate
                  FROM pg_class c
                  CROSS JOIN LATERAL (SELECT pg_relation_size(c.oid) / current_setting('block_size')::int AS now) pages
                  -- pg_partition_tree lists a partitioned table's partitions, and nothing for a plain table.
                  WHERE c.oid IN (SELECT tree.relid FROM pg_partition_tree(to_regclass($1)) tree WHERE tree.isleaf)
                     OR c.oid = to_regclass($1) AND c.relkind <> 'p') part
            """, source);
        command.Parameters.AddWithValue(table.Quoted);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long rows ? rows : null;
    }

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
    /// through <paramref name="target"/> (which must be in the transaction that empties and checkpoints it). Returns the row
    /// count, counted in the stream as it passes (no second scan of the table). <paramref name="freeze"/> writes the rows
    /// frozen (COPY FREEZE): allowed only when <paramref name="target"/>'s transaction emptied the table with TRUNCATE, so no
    /// other transaction can see the table before the rows; they then never need a vacuum to freeze them or hint bits set on first read.
    /// </summary>
    /// <param name="copied">Told the running row count after each piece of the stream, when given (a running bootstrap's progress).</param>
    public static async Task<long> CopyAsync(NpgsqlConnection source, NpgsqlConnection target, TableName table, IReadOnlyList<string> columns, bool freeze,
        CancellationToken cancellationToken, Action<long>? copied = null)
    {
        var columnList = string.Join(", ", columns.Select(SqlIdentifier.Quote));
        var counter = new BinaryCopyRowCounter();
        var buffer = new byte[1 << 16];
        await using (var reader = await source.BeginRawBinaryCopyAsync($"COPY (SELECT {columnList} FROM {table.Quoted}) TO STDOUT (FORMAT binary)", cancellationToken).ConfigureAwait(false))
        await using (var writer = await target.BeginRawBinaryCopyAsync(
            $"COPY {table.Quoted} ({columnList}) FROM STDIN (FORMAT binary{(freeze ? ", FREEZE" : "")})", cancellationToken).ConfigureAwait(false))
        {
            int read;
            while ((read = await reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                counter.Add(buffer.AsSpan(0, read));
                copied?.Invoke(counter.Rows);
                await writer.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }

        if (!counter.Ended) throw new InvalidDataException($"the copy of {table} ended before the COPY stream's end marker");
        return counter.Rows;
    }
}
