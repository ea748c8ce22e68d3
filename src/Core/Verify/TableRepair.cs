using DataSync.Core.Apply;
using DataSync.Core.Bootstrap;
using DataSync.Core.Sync;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Verify;

/// <summary>
/// Makes the differing rows of a verified table production's again, in the caller's local transaction: the keys that
/// are extra or different are deleted, and the rows production has for the missing and different keys are copied from the
/// paused restore as the bootstrap copies them (binary COPY: production's exact bytes; a column whose type has no binary form,
/// as isn's, by its exact text). Nothing else in the table is touched, and its checkpoint stays
/// where the comparison was made, so the table resumes from there.
/// </summary>
public static class TableRepair
{
    // Keys per statement: a long IN list is parsed once per chunk, not once per key.
    private const int KeysPerStatement = 500;

    /// <summary>Returns the counts: missing rows inserted, different rows replaced (updated), extra rows deleted.</summary>
    public static async Task<ApplyCounts> RepairAsync(NpgsqlConnection production, NpgsqlConnection local, ComparedTable table, IReadOnlyList<RowDifference> differences,
        CancellationToken cancellationToken)
    {
        var ourRows = await OwnRows.NameAsync(local, table.Table, cancellationToken).ConfigureAwait(false);
        foreach (var chunk in differences.Where(d => d.Kind != DifferenceKind.MissingLocally).Chunk(KeysPerStatement))
        {
            await using var delete = new NpgsqlCommand($"DELETE FROM {ourRows} WHERE {table.KeyIn(chunk.Select(d => d.Key))}", local);
            await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var chunk in differences.Where(d => d.Kind != DifferenceKind.ExtraLocally).Chunk(KeysPerStatement))
        {
            // As the bootstrap copies: binary COPY, with columns whose type has no binary form (isn) carried as text.
            await TableCopier.CopyAsync(production, local, table.Table, table.Columns, freeze: false, cancellationToken, where: table.KeyIn(chunk.Select(d => d.Key)))
                .ConfigureAwait(false);
        }

        return new ApplyCounts(
            Inserted: differences.Count(d => d.Kind == DifferenceKind.MissingLocally),
            Updated: differences.Count(d => d.Kind == DifferenceKind.Different),
            Deleted: differences.Count(d => d.Kind == DifferenceKind.ExtraLocally));
    }

    /// <summary>
    /// Locks the table, then its state row, for the repair's transaction, and checks the table still stands where it was
    /// compared: in <paramref name="state"/> at <paramref name="checkpoint"/>. A resync, clear or removal asked meanwhile wins.
    /// </summary>
    /// <remarks>
    /// The table lock comes first and waits out a batch of the table that was in flight when the hold was taken: such a
    /// batch holds locks on the rows it wrote until its commit, which then needs the state row. Taking the state row first
    /// and then deleting a row the batch wrote would wait on each other. Once the lock is held, a batch still routed to
    /// the table waits for the repair, and is withdrawn at its commit (the table is no longer syncing).
    /// </remarks>
    public static async Task<string?> StandsStillAsync(NpgsqlConnection local, ComparedTable table, TableState state, Lsn checkpoint, CancellationToken cancellationToken)
    {
        await using (var lockTable = new NpgsqlCommand($"LOCK TABLE {table.Table.Quoted} IN SHARE ROW EXCLUSIVE MODE", local))
            await lockTable.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT state, checkpoint_lsn FROM datasync_table_state WHERE table_name = $1 FOR UPDATE", local);
        command.Parameters.AddWithValue(table.Table.ToString());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return "the table left the sync list during the verify";
        var now = reader.GetString(0);
        var at = reader.IsDBNull(1) ? Lsn.Invalid : reader.GetLsn(1);
        if (now != state.ToText()) return $"the table's state changed to {now} during the verify";
        return at != checkpoint ? $"the table's checkpoint moved from {checkpoint} to {at} during the verify" : null;
    }
}
