using DataSync.Core.Tables;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>One synced table as the state table records it.</summary>
public sealed record TableSyncState(TableName Table, TableState State, Lsn Checkpoint)
{
    public bool NeedsBootstrap => State is TableState.New or TableState.ResyncRequested;
}

/// <summary>The stream position: where decoding resumes, and the catalog it decodes with.</summary>
public sealed record StreamState(Lsn RestartLsn, Lsn CatalogLsn, string CatalogJson, string LocationsJson, string? LastSegment, long Generation = 0);

/// <summary>Reads and writes the sync state kept in the local database.</summary>
public static class SyncState
{
    public static async Task<IReadOnlyList<TableSyncState>> ReadTablesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var result = new List<TableSyncState>();
        await using var command = new NpgsqlCommand("""
            SELECT t.table_name, t.schema_name, t.relation_name, coalesce(s.state, 'new'), coalesce(s.checkpoint_lsn, '0/0')
            FROM tables_to_sync t LEFT JOIN datasync_table_state s ON s.table_name = t.table_name
            ORDER BY t.id
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var table = reader.IsDBNull(1) ? TableNameParser.Parse(reader.GetString(0)) : new TableName(reader.GetString(1), reader.GetString(2));
            result.Add(new TableSyncState(table, TableStateText.Parse(reader.GetString(3)), reader.GetLsn(4)));
        }

        return result;
    }

    public static async Task<StreamState?> ReadStreamAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT restart_lsn, catalog_lsn, catalog, catalog_locations, last_segment, generation FROM datasync_stream", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new StreamState(reader.GetLsn(0), reader.GetLsn(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetInt64(5));
    }

    /// <summary>
    /// Records the stream's progress over the generation it was read at: the restart point only moves
    /// forward, the catalog is replaced. False, with nothing written, when a bootstrap has installed a new
    /// generation meanwhile (its rewind and catalog win; the stream starts again from them).
    /// Beside it, for status: the segment of the restart point, what holds it back (the oldest open production
    /// transaction, or none), the newest commit routed to the tables, and that commit's time as the checkpoint
    /// time of every table that has reached it.
    /// </summary>
    public static async Task<bool> RecordProgressAsync(NpgsqlConnection connection, long generation, StreamProgress progress, string catalogJson, string locationsJson,
        CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection);
        var stream = new NpgsqlBatchCommand("""
            UPDATE datasync_stream SET restart_lsn = GREATEST(restart_lsn, $2),
                restart_segment = CASE WHEN $2 >= restart_lsn THEN $6 ELSE restart_segment END,
                catalog = $3, catalog_locations = $4, last_segment = $5,
                routed_lsn = coalesce($7, routed_lsn), routed_time = coalesce($8, routed_time), wal_time = coalesce($9, wal_time),
                oldest_xid = $10, oldest_lsn = $11, oldest_segment = $12, oldest_open_by = $13, updated_at = now()
            WHERE generation = $1
            """);
        var oldest = progress.OldestOpen;
        stream.Parameters.Add(new NpgsqlParameter { Value = generation });
        stream.Parameters.Add(LsnConversions.Parameter(progress.RestartLsn));
        stream.Parameters.Add(new NpgsqlParameter { Value = catalogJson });
        stream.Parameters.Add(new NpgsqlParameter { Value = locationsJson });
        stream.Parameters.Add(new NpgsqlParameter { Value = progress.LastSegment });
        stream.Parameters.Add(new NpgsqlParameter { Value = progress.RestartSegment });
        stream.Parameters.Add(LsnConversions.Parameter(progress.RoutedThrough.IsValid ? progress.RoutedThrough : null));
        stream.Parameters.Add(new NpgsqlParameter { Value = (object?)progress.RoutedTime ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        stream.Parameters.Add(new NpgsqlParameter { Value = (object?)progress.WalTime ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        stream.Parameters.Add(new NpgsqlParameter { Value = oldest is null ? DBNull.Value : (long)oldest.Xid });
        stream.Parameters.Add(LsnConversions.Parameter(oldest?.FirstLsn));
        stream.Parameters.Add(new NpgsqlParameter { Value = (object?)progress.OldestSegment ?? DBNull.Value });
        stream.Parameters.Add(new NpgsqlParameter { Value = (object?)oldest?.OpenBy ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        batch.BatchCommands.Add(stream);
        if (progress.RoutedThrough.IsValid && progress.RoutedTime is { } routedTime)
        {
            // Every table whose checkpoint is that commit has seen everything routed so far: its lag is nil until more comes.
            var tables = new NpgsqlBatchCommand("UPDATE datasync_table_state SET checkpoint_time = $2 WHERE checkpoint_lsn = $1");
            tables.Parameters.Add(LsnConversions.Parameter(progress.RoutedThrough));
            tables.Parameters.Add(new NpgsqlParameter { Value = routedTime, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
            batch.BatchCommands.Add(tables);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return batch.BatchCommands[0].RecordsAffected == 1;
    }

    /// <summary>
    /// A bootstrap's part of the stream, in its transaction: the stream resumes no later than
    /// <paramref name="restart"/> (the base backup's start, so transactions open at the copy are seen
    /// whole), decodes with the restore's catalog, and starts a new generation.
    /// </summary>
    public static async Task InstallBootstrapAsync(NpgsqlConnection connection, Lsn restart, string restartSegment, Lsn catalogLsn, string catalogJson, string locationsJson,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO datasync_stream (singleton, restart_lsn, restart_segment, catalog_lsn, catalog, catalog_locations, generation, updated_at)
            VALUES (true, $1, $5, $2, $3, $4, 1, now())
            ON CONFLICT (singleton) DO UPDATE SET restart_lsn = LEAST(datasync_stream.restart_lsn, $1),
                restart_segment = CASE WHEN $1 <= datasync_stream.restart_lsn THEN $5 ELSE datasync_stream.restart_segment END,
                catalog_lsn = $2, catalog = $3, catalog_locations = $4, generation = datasync_stream.generation + 1, updated_at = now()
            """, connection);
        command.Parameters.Add(LsnConversions.Parameter(restart));
        command.Parameters.Add(LsnConversions.Parameter(catalogLsn));
        command.Parameters.AddWithValue(catalogJson);
        command.Parameters.AddWithValue(locationsJson);
        command.Parameters.AddWithValue(restartSegment);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Moves a table to <paramref name="state"/> with its checkpoint and, when given, a log row; in the caller's transaction.</summary>
    public static async Task SetTableAsync(NpgsqlConnection connection, TableName table, TableState state, Lsn? checkpoint, string? archiveFile, long rows, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO datasync_table_state (table_name, state, checkpoint_lsn, last_commit_lsn, last_archive_file, last_success_at, rows_synced, updated_at, error_detail)
            VALUES ($1, $2, $3, $3, $4, CASE WHEN $2 = 'syncing' THEN now() END, $5, now(), NULL)
            ON CONFLICT (table_name) DO UPDATE SET state = $2,
                checkpoint_lsn = coalesce($3, datasync_table_state.checkpoint_lsn),
                last_commit_lsn = coalesce($3, datasync_table_state.last_commit_lsn),
                last_archive_file = coalesce($4, datasync_table_state.last_archive_file),
                last_success_at = CASE WHEN $2 = 'syncing' THEN now() ELSE datasync_table_state.last_success_at END,
                rows_synced = datasync_table_state.rows_synced + $5,
                error_detail = CASE WHEN $2 = 'syncing' THEN NULL ELSE datasync_table_state.error_detail END,
                updated_at = now()
            """, connection);
        command.Parameters.AddWithValue(table.ToString());
        command.Parameters.AddWithValue(state.ToText());
        command.Parameters.Add(LsnConversions.Parameter(checkpoint));
        command.Parameters.AddWithValue((object?)archiveFile ?? DBNull.Value);
        command.Parameters.AddWithValue(rows);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Moves a syncing table's checkpoint forward in the caller's transaction. False, with nothing changed,
    /// when the table is no longer syncing (paused, cleared, resync asked, removed) or already past it.
    /// </summary>
    public static async Task<bool> AdvanceCheckpointAsync(NpgsqlConnection connection, TableName table, Lsn checkpoint, string archiveFile, long rows, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE datasync_table_state SET checkpoint_lsn = $2, last_commit_lsn = $2, last_archive_file = $3,
                last_success_at = now(), rows_synced = rows_synced + $4, error_detail = NULL, updated_at = now()
            WHERE table_name = $1 AND state = 'syncing' AND checkpoint_lsn < $2
            """, connection);
        command.Parameters.AddWithValue(table.ToString());
        command.Parameters.Add(LsnConversions.Parameter(checkpoint));
        command.Parameters.AddWithValue(archiveFile);
        command.Parameters.AddWithValue(rows);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>
    /// Moves a syncing table's checkpoint past commits that had nothing for it (the last applied commit and the
    /// log stay as they are). Only from <paramref name="from"/>, the checkpoint the batch began at: a bootstrap or
    /// resync that set another one meanwhile wins. False when nothing moved.
    /// </summary>
    public static async Task<bool> PassCheckpointAsync(NpgsqlConnection connection, TableName table, Lsn from, Lsn checkpoint, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE datasync_table_state SET checkpoint_lsn = $3, updated_at = now()
            WHERE table_name = $1 AND state = 'syncing' AND checkpoint_lsn = $2 AND checkpoint_lsn < $3
            """, connection);
        command.Parameters.AddWithValue(table.ToString());
        command.Parameters.Add(LsnConversions.Parameter(from));
        command.Parameters.Add(LsnConversions.Parameter(checkpoint));
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <summary>Marks a table <c>failed</c> with why, in the caller's transaction (the caller logs the FAILED row).</summary>
    public static async Task FailAsync(NpgsqlConnection connection, TableName table, string detail, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO datasync_table_state (table_name, state, error_detail) VALUES ($1, 'failed', $2)
            ON CONFLICT (table_name) DO UPDATE SET state = 'failed', error_detail = $2, updated_at = now()
            """, connection);
        command.Parameters.AddWithValue(table.ToString());
        command.Parameters.AddWithValue(detail);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pauses a table after a failure and logs it: FAILED, with the time, table, archive file, LSN and cause.</summary>
    public static async Task PauseAsync(NpgsqlDataSource dataSource, TableName table, string archiveFile, Lsn lsn, string cause, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var detail = $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC; table {table}; archive file {archiveFile}; LSN {lsn}: {cause}";
        await using (var command = new NpgsqlCommand("""
            UPDATE datasync_table_state SET state = 'paused', error_detail = $2, updated_at = now() WHERE table_name = $1
            """, connection, transaction))
        {
            command.Parameters.AddWithValue(table.ToString());
            command.Parameters.AddWithValue(detail);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await LogAsync(connection, table, "FAILED", 0, default, archiveFile, detail, null, lsn, lsn, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public static async Task LogAsync(NpgsqlConnection connection, TableName table, string status, long rows, Apply.ApplyCounts counts,
        string? archiveRef, string? error, long? durationMs, Lsn? from, Lsn? to, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO data_sync_logs (table_name, status, rows_synced, archive_ref, error_detail, rows_inserted, rows_updated, rows_deleted, duration_ms, lsn_from, lsn_to, rows_truncated)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            """, connection);
        command.Parameters.AddWithValue(table.ToString());
        command.Parameters.AddWithValue(status);
        command.Parameters.AddWithValue((int)Math.Min(rows, int.MaxValue));
        command.Parameters.AddWithValue((object?)archiveRef ?? DBNull.Value);
        command.Parameters.AddWithValue((object?)error ?? DBNull.Value);
        command.Parameters.AddWithValue(counts.Inserted);
        command.Parameters.AddWithValue(counts.Updated);
        command.Parameters.AddWithValue(counts.Deleted);
        command.Parameters.AddWithValue((object?)durationMs ?? DBNull.Value);
        command.Parameters.Add(LsnConversions.Parameter(from));
        command.Parameters.Add(LsnConversions.Parameter(to));
        command.Parameters.AddWithValue(counts.Truncated);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
