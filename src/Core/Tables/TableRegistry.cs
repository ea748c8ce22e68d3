using Npgsql;

namespace DataSync.Core.Tables;

/// <summary>
/// The whitelist of synced tables (<c>tables_to_sync</c>) and the per-table state rows that go with it.
/// Adding is all or nothing: when any named table is refused, none is added, so a corrected
/// command line can simply be run again.
/// </summary>
public sealed class TableRegistry(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<TableListChange>> AddAsync(IReadOnlyList<TableName> tables, string creator, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var listed = (await ListedAsync(connection, cancellationToken).ConfigureAwait(false)).ToHashSet();

        var changes = new List<TableListChange>();
        foreach (var table in tables)
        {
            if (listed.Contains(table))
            {
                changes.Add(new TableListChange(table, TableListOutcome.AlreadyListed));
                continue;
            }

            var problem = await TableEligibility.CheckAsync(connection, table, cancellationToken).ConfigureAwait(false);
            changes.Add(problem is null
                ? new TableListChange(table, TableListOutcome.Added)
                : new TableListChange(table, TableListOutcome.Refused, problem));
        }

        if (changes.Any(c => c.Outcome == TableListOutcome.Refused))
        {
            await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            // Nothing was added: report the tables that were fine as such, not as added.
            return changes.Select(c => c.Outcome == TableListOutcome.Added ? c with { Outcome = TableListOutcome.Refused, Reason = "not added because another table in the same command was refused" } : c).ToList();
        }

        foreach (var change in changes.Where(c => c.Outcome == TableListOutcome.Added))
        {
            await using var insert = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("INSERT INTO tables_to_sync (table_name, schema_name, relation_name, creator) VALUES ($1, $2, $3, $4)")
                    {
                        Parameters = { new() { Value = change.Table.ToString() }, new() { Value = change.Table.Schema }, new() { Value = change.Table.Name }, new() { Value = creator } },
                    },
                    new NpgsqlBatchCommand("""
                        INSERT INTO datasync_table_state (table_name, state) VALUES ($1, 'new')
                            ON CONFLICT (table_name) DO UPDATE SET state = 'new', checkpoint_lsn = NULL, last_commit_lsn = NULL,
                                error_detail = NULL, updated_at = now()
                        """)
                    {
                        Parameters = { new() { Value = change.Table.ToString() } },
                    },
                },
            };
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return changes;
    }

    /// <summary>Stops syncing the tables and forgets their checkpoints; their local rows are left alone.</summary>
    public async Task<IReadOnlyList<TableListChange>> RemoveAsync(IReadOnlyList<TableName> tables, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var changes = new List<TableListChange>();
        foreach (var table in tables)
        {
            await using (var forget = new NpgsqlCommand("DELETE FROM datasync_table_state WHERE table_name = $1", connection, transaction))
            {
                forget.Parameters.AddWithValue(table.ToString());
                await forget.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var delete = new NpgsqlCommand("DELETE FROM tables_to_sync WHERE table_name = $1", connection, transaction);
            delete.Parameters.AddWithValue(table.ToString());
            var removed = await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            changes.Add(new TableListChange(table, removed > 0 ? TableListOutcome.Removed : TableListOutcome.NotListed));
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return changes;
    }

    public async Task<IReadOnlyList<TableName>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        return await ListedAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<TableName>> ListedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var result = new List<TableName>();
        // Rows written before schema version 2 have only the text form; it parses back unambiguously.
        await using var command = new NpgsqlCommand("SELECT table_name, schema_name, relation_name FROM tables_to_sync ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(reader.IsDBNull(1) || reader.IsDBNull(2)
                ? TableNameParser.Parse(reader.GetString(0))
                : new TableName(reader.GetString(1), reader.GetString(2)));
        }

        return result;
    }
}
