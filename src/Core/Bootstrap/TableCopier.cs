using DataSync.Core.Apply;
using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Copies one table from the paused restore into the local database as binary COPY, streamed:
/// production's exact bytes, no text round trip (but for columns whose type has no binary form), no rows held in memory. Generated columns are left
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
    /// <remarks>
    /// A table with columns binary COPY cannot carry (<see cref="TextCarriedColumn"/>) is copied with those columns as
    /// text, each printed exactly by the source, into a temporary table, and moved into the table by one INSERT that
    /// casts them back; its rows are not frozen. So is a table whose row-level security applies to the target's user
    /// (<see cref="RowSecurity"/>): its policies see every row as an INSERT.
    /// </remarks>
    /// <param name="where">A condition on the table's columns: only the rows it selects are copied (a repair's differing keys).</param>
    public static async Task<long> CopyAsync(NpgsqlConnection source, NpgsqlConnection target, TableName table, IReadOnlyList<string> columns, bool freeze,
        CancellationToken cancellationToken, Action<long>? copied = null, string? where = null)
    {
        var columnList = string.Join(", ", columns.Select(SqlIdentifier.Quote));
        var selecting = where is null ? "" : $" WHERE {where}";
        var targetText = await TextCarriedColumn.ReadAsync(target, table, cancellationToken).ConfigureAwait(false);
        // The server refuses COPY into a table whose row-level security applies to the user: its rows go through the stage too.
        if (!columns.Any(targetText.ContainsKey) && !await RowSecurity.ActiveAsync(target, table, cancellationToken).ConfigureAwait(false))
        {
            // COPY of the table itself reads its heap without going through the executor, and only the table's own rows (not
            // those of its inheritance children, which the stream does not carry either: OwnRows); a partitioned table cannot be copied that way.
            var whole = where is null && await IsPlainTableAsync(source, table, cancellationToken).ConfigureAwait(false)
                ? $"{table.Quoted} ({columnList})"
                : $"(SELECT {columnList} FROM {await OwnRows.NameAsync(source, table, cancellationToken).ConfigureAwait(false)}{selecting})";
            return await StreamAsync(source, target, table, whole,
                $"COPY {table.Quoted} ({columnList}) FROM STDIN (FORMAT binary{(freeze ? ", FREEZE" : "")})", copied, cancellationToken).ConfigureAwait(false);
        }

        var sourceText = await TextCarriedColumn.ReadAsync(source, table, cancellationToken).ConfigureAwait(false);
        var selected = columns.Select(c =>
        {
            var quoted = "t." + SqlIdentifier.Quote(c);
            if (!targetText.ContainsKey(c)) return quoted;
            return sourceText.TryGetValue(c, out var text) ? text.ToText(quoted) : quoted + "::text";
        });
        // In pg_temp by name, so that clearing a left-over of an earlier failed copy on this session can only ever drop that.
        var stage = "pg_temp.datasync_copy_" + table.Digest(16);
        var staged = columns.Select(c => $"t.{SqlIdentifier.Quote(c)}{(targetText.ContainsKey(c) ? "::text" : "")} AS {SqlIdentifier.Quote(c)}");
        var cast = columns.Select(c => targetText.TryGetValue(c, out var text) ? text.FromText("s." + SqlIdentifier.Quote(c)) : "s." + SqlIdentifier.Quote(c));
        await TableSizedStatement.ExecuteAsync(target, $"DROP TABLE IF EXISTS {stage}; CREATE TEMP TABLE {stage} AS SELECT {string.Join(", ", staged)} FROM {table.Quoted} t WITH NO DATA",
            cancellationToken).ConfigureAwait(false);
        var sourceRows = await OwnRows.NameAsync(source, table, cancellationToken).ConfigureAwait(false);
        var rows = await StreamAsync(source, target, table, $"(SELECT {string.Join(", ", selected)} FROM {sourceRows} t{selecting})",
            $"COPY {stage} ({columnList}) FROM STDIN (FORMAT binary)", copied, cancellationToken).ConfigureAwait(false);
        await TableSizedStatement.ExecuteAsync(target, $"INSERT INTO {table.Quoted} ({columnList}) OVERRIDING SYSTEM VALUE SELECT {string.Join(", ", cast)} FROM {stage} s; DROP TABLE {stage}",
            cancellationToken).ConfigureAwait(false);
        return rows;
    }

    /// <summary>How many bytes of the COPY stream are relayed at a time: one CopyData message to the target per piece.</summary>
    private const int PieceSize = 1 << 20;

    /// <summary>
    /// One binary COPY of <paramref name="query"/>'s rows (a parenthesized query, or a table and its columns) on the source into <paramref name="copyIn"/> on the target; returns the row count.
    /// </summary>
    /// <remarks>
    /// The source sends one CopyData message per row and a read returns at most one, so rows are gathered into pieces of
    /// <see cref="PieceSize"/> bytes: the target gets one large message per piece (a write that large bypasses the
    /// connection's 8 KiB buffer), the rows are counted and the progress told once per piece, and the piece is sent while
    /// the next one is gathered.
    /// </remarks>
    private static async Task<long> StreamAsync(NpgsqlConnection source, NpgsqlConnection target, TableName table, string query, string copyIn,
        Action<long>? copied, CancellationToken cancellationToken)
    {
        var counter = new BinaryCopyRowCounter();
        var gathering = new byte[PieceSize];
        var sending = new byte[PieceSize];
        await using (var reader = await source.BeginRawBinaryCopyAsync($"COPY {query} TO STDOUT (FORMAT binary)", cancellationToken).ConfigureAwait(false))
        await using (var writer = await target.BeginRawBinaryCopyAsync(copyIn, cancellationToken).ConfigureAwait(false))
        {
            var sent = Task.CompletedTask;
            try
            {
                var filled = 0;
                while (true)
                {
                    var read = await reader.ReadAsync(gathering.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                    filled += read;
                    if (read > 0 && filled < gathering.Length) continue;
                    if (filled == 0) break;

                    counter.Add(gathering.AsSpan(0, filled));
                    copied?.Invoke(counter.Rows);
                    await sent.ConfigureAwait(false);
                    (gathering, sending) = (sending, gathering);
                    sent = writer.WriteAsync(sending.AsMemory(0, filled), cancellationToken).AsTask();
                    filled = 0;
                    if (read == 0) break;
                }
            }
            finally
            {
                // The streams are disposed only once no write is under way; an error of that write is thrown here unless
                // the loop already failed, whose error is then the one that propagates.
                await sent.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            await sent.ConfigureAwait(false);
        }

        if (!counter.Ended) throw new InvalidDataException($"the copy of {table} ended before the COPY stream's end marker");
        return counter.Rows;
    }

    /// <summary>
    /// True when <paramref name="table"/> on <paramref name="connection"/>'s server is an ordinary table (not partitioned,
    /// foreign or a view).
    /// </summary>
    public static async Task<bool> IsPlainTableAsync(NpgsqlConnection connection, TableName table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT relkind = 'r' FROM pg_class WHERE oid = to_regclass($1)", connection);
        command.Parameters.AddWithValue(table.Quoted);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true;
    }
}
