using DataSync.Core.Tables;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Verify;

/// <summary>A table held for a verify: its checkpoint, and the stream's restart point to rewind to when it resumes.</summary>
public sealed record HeldTable(TableName Table, Lsn Checkpoint, Lsn RestartLsn, string? RestartSegment);

/// <summary>
/// Holds a syncing table at its checkpoint while the daemon keeps streaming for the others, and lets it go again. The
/// hold is the table's state in the database (<c>verifying</c>), not a flag in memory: a batch of the table in flight
/// when the hold is taken is withdrawn (its checkpoint moves only while the state is <c>syncing</c>), the stream leaves
/// the table out from its next pass, and a daemon that dies meanwhile finds the hold at its next start. The stream's
/// restart point read as the hold is taken is kept with it: the other tables move the stream past changes the held
/// table has yet to apply, so the release rewinds the stream there (a new generation, as a bootstrap does) and the
/// table catches up while the others skip what their checkpoints already hold.
/// </summary>
public static class TableHold
{
    /// <summary>Holds <paramref name="table"/> if it is syncing; null (nothing changed) when it is not.</summary>
    public static async Task<HeldTable?> HoldAsync(NpgsqlDataSource local, TableName table, CancellationToken cancellationToken)
    {
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // The restart point comes from the statement's snapshot: if the table's batch commits while this waits for its row,
        // the point read is the one recorded before that batch, which is earlier, and an earlier point is always safe.
        await using var command = new NpgsqlCommand("""
            UPDATE datasync_table_state s SET state = 'verifying', hold_restart_lsn = st.restart_lsn, hold_restart_segment = st.restart_segment, updated_at = now()
            FROM datasync_stream st
            WHERE s.table_name = $1 AND s.state = 'syncing' AND s.checkpoint_lsn IS NOT NULL
            RETURNING s.checkpoint_lsn, st.restart_lsn, st.restart_segment
            """, connection);
        command.Parameters.AddWithValue(table.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new HeldTable(table, reader.GetLsn(0), reader.GetLsn(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    /// <summary>
    /// A syncing table's checkpoint without holding it (no daemon runs, so nothing moves it); null when it is not syncing.
    /// </summary>
    public static async Task<HeldTable?> ReadAsync(NpgsqlDataSource local, TableName table, CancellationToken cancellationToken)
    {
        await using var command = local.CreateCommand("""
            SELECT s.checkpoint_lsn, st.restart_lsn, st.restart_segment
            FROM datasync_table_state s CROSS JOIN datasync_stream st
            WHERE s.table_name = $1 AND s.state = 'syncing' AND s.checkpoint_lsn IS NOT NULL
            """);
        command.Parameters.AddWithValue(table.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new HeldTable(table, reader.GetLsn(0), reader.GetLsn(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    /// <summary>
    /// Lets a held table resume: back to <c>syncing</c>, and the stream rewound to the restart point kept with the hold,
    /// in a new generation (a route in flight then records nothing and the stream starts again from the database). True
    /// when the table was still held; a resync, clear or removal asked meanwhile keeps its own state (and rewinds nothing).
    /// The caller makes sure the spool holds the WAL from <see cref="HeldTable.RestartSegment"/> on.
    /// </summary>
    public static async Task<bool> ReleaseAsync(NpgsqlDataSource local, HeldTable held, CancellationToken cancellationToken)
    {
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        bool released;
        await using (var table = new NpgsqlCommand("""
            UPDATE datasync_table_state SET state = 'syncing', hold_restart_lsn = NULL, hold_restart_segment = NULL, updated_at = now()
            WHERE table_name = $1 AND state = 'verifying'
            """, connection, transaction))
        {
            table.Parameters.AddWithValue(held.Table.ToString());
            released = await table.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }

        if (released) await RewindAsync(connection, transaction, held.RestartLsn, held.RestartSegment, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return released;
    }

    /// <summary>The holds a daemon left when it stopped or died during a verify (read at its next start, to release them).</summary>
    public static async Task<IReadOnlyList<HeldTable>> LeftAsync(NpgsqlDataSource local, CancellationToken cancellationToken)
    {
        await using var command = local.CreateCommand("""
            SELECT t.table_name, t.schema_name, t.relation_name, s.checkpoint_lsn, s.hold_restart_lsn, s.hold_restart_segment
            FROM datasync_table_state s JOIN tables_to_sync t ON t.table_name = s.table_name
            WHERE s.state = 'verifying' AND s.hold_restart_lsn IS NOT NULL
            """);
        var held = new List<HeldTable>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var table = reader.IsDBNull(1) ? TableNameParser.Parse(reader.GetString(0)) : new TableName(reader.GetString(1), reader.GetString(2));
            held.Add(new HeldTable(table, reader.GetLsn(3), reader.GetLsn(4), reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return held;
    }

    private static async Task RewindAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Lsn restart, string? segment, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE datasync_stream SET restart_lsn = LEAST(restart_lsn, $1),
                restart_segment = CASE WHEN $1 < restart_lsn THEN coalesce($2, restart_segment) ELSE restart_segment END,
                generation = generation + 1, updated_at = now()
            """, connection, transaction);
        command.Parameters.Add(LsnConversions.Parameter(restart));
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)segment ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
