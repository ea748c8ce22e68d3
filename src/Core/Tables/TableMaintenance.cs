using DataSync.Core.Apply;
using Npgsql;

namespace DataSync.Core.Tables;

/// <summary>
/// <c>clear</c> and <c>resync</c> as they act on the database when no daemon runs: the daemon reads
/// the states they leave (<c>cleared</c>, <c>resync-requested</c>) when it starts.
/// </summary>
public sealed class TableMaintenance(NpgsqlDataSource dataSource, TableRegistry registry)
{
    /// <summary>
    /// Empties every synced local table in one TRUNCATE (so foreign keys among them do not object),
    /// marks each <c>cleared</c> and logs it. Returns the tables cleared.
    /// </summary>
    public async Task<IReadOnlyList<TableName>> ClearAllAsync(CancellationToken cancellationToken = default)
    {
        var tables = await registry.ListAsync(cancellationToken).ConfigureAwait(false);
        if (tables.Count == 0) return tables;

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var targets = new List<string>(tables.Count);
        foreach (var table in tables) targets.Add(await OwnRows.NameAsync(connection, table, cancellationToken).ConfigureAwait(false));
        await using (var truncate = new NpgsqlCommand($"TRUNCATE {string.Join(", ", targets)}", connection, transaction))
            await truncate.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

        foreach (var table in tables)
        {
            await using var mark = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("""
                        INSERT INTO datasync_table_state (table_name, state) VALUES ($1, 'cleared')
                            ON CONFLICT (table_name) DO UPDATE SET state = 'cleared', checkpoint_lsn = NULL, last_commit_lsn = NULL, updated_at = now()
                        """)
                    {
                        Parameters = { new() { Value = table.ToString() } },
                    },
                    new NpgsqlBatchCommand(
                        "INSERT INTO data_sync_logs (table_name, status, rows_synced, error_detail) VALUES ($1, 'CLEARED', 0, 'cleared by datasync clear; run datasync resync to sync it again')")
                    {
                        Parameters = { new() { Value = table.ToString() } },
                    },
                },
            };
            await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return tables;
    }

    /// <summary>Marks listed tables for a resync; names that are not in the sync list come back as refused.</summary>
    public async Task<IReadOnlyList<TableListChange>> RequestResyncAsync(IReadOnlyList<TableName> tables, CancellationToken cancellationToken = default)
    {
        var listed = (await registry.ListAsync(cancellationToken).ConfigureAwait(false)).ToHashSet();
        var unknown = tables.Where(t => !listed.Contains(t)).ToList();
        if (unknown.Count > 0)
        {
            return tables.Select(t => listed.Contains(t)
                ? new TableListChange(t, TableListOutcome.Refused, "not requested because another table in the same command is not synced")
                : new TableListChange(t, TableListOutcome.NotListed)).ToList();
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var table in tables)
        {
            await using var mark = new NpgsqlCommand("""
                INSERT INTO datasync_table_state (table_name, state, resync_requested_at) VALUES ($1, 'resync-requested', now())
                    ON CONFLICT (table_name) DO UPDATE SET state = 'resync-requested', resync_requested_at = now(), updated_at = now()
                """, connection);
            mark.Parameters.AddWithValue(table.ToString());
            await mark.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return tables.Select(t => new TableListChange(t, TableListOutcome.Added)).ToList();
    }
}
