using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// The indexes of a local table that a bootstrap drops before its copy and builds again after it, in the same
/// transaction. A COPY into a table with a btree index inserts every row into the index one by one, with a WAL record
/// each; building the index once over the loaded rows sorts them and writes whole pages. Measured on PostgreSQL 18
/// (1M rows, bigint primary key, ~240 bytes a row): COPY FREEZE with the key 5.3-5.8 s, without it 1.9-3.0 s plus
/// 1.2-2.4 s to add the key back. The table was emptied by TRUNCATE in the same transaction, which holds its ACCESS
/// EXCLUSIVE lock, and DDL is transactional: a crash or an error leaves the table as it was before, indexes and all.
/// </summary>
/// <remarks>
/// Only an index whose definition the catalog's own printers (pg_get_indexdef, pg_get_constraintdef) give back whole is
/// taken: none that anything else depends on (a foreign key of another table, a view grouping by the key, a partitioned
/// parent's index), nor one that is clustered on, the replica identity, in a tablespace of its own, commented,
/// with a statistics target set, or backs an exclusion constraint or a constraint named apart from its index. Those stay,
/// and the copy maintains them as before. Dropping needs the table's owner; a local user that is not gets the old path.
/// </remarks>
public sealed class DeferredIndexes
{
    private readonly TableName _table;
    private readonly IReadOnlyList<Definition> _dropped;

    private DeferredIndexes(TableName table, IReadOnlyList<Definition> dropped)
    {
        _table = table;
        _dropped = dropped;
    }

    /// <summary>How many indexes were dropped, to be built again by <see cref="RebuildAsync"/>.</summary>
    public int Count => _dropped.Count;

    /// <summary>What one dropped index was: its name, and the constraint it backed (null for a plain index) with its definition.</summary>
    private sealed record Definition(string Index, string IndexDefinition, string? Constraint, string? ConstraintDefinition);

    /// <summary>
    /// Drops the indexes of <paramref name="table"/> that can be built again exactly, in <paramref name="connection"/>'s
    /// transaction (which must have emptied the table with TRUNCATE). When a drop is refused all the same, nothing is dropped.
    /// </summary>
    public static async Task<DeferredIndexes> DropAsync(NpgsqlConnection connection, TableName table, CancellationToken cancellationToken)
    {
        var definitions = new List<Definition>();
        await using (var command = new NpgsqlCommand("""
            SELECT ci.relname, pg_get_indexdef(i.indexrelid), con.conname, pg_get_constraintdef(con.oid)
            FROM pg_index i
            JOIN pg_class ci ON ci.oid = i.indexrelid
            LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
            WHERE i.indrelid = to_regclass($1)
              AND i.indisvalid AND i.indisready AND i.indislive
              AND NOT i.indisclustered AND NOT i.indisreplident
              AND ci.reltablespace = 0
              AND pg_has_role(ci.relowner, 'USAGE')
              AND (con.oid IS NULL OR con.contype IN ('p', 'u') AND con.conname = ci.relname)
              -- Anything that depends on the index (a foreign key, a partitioned parent's index) but its own constraint.
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = i.indexrelid)
              AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid OR h.inhparent = i.indexrelid)
              -- Anything that depends on the constraint but what it makes itself (its index, a deferrable key's trigger): a view
              -- grouping by the key, a foreign key.
              AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_constraint'::regclass AND d.refobjid = con.oid AND d.deptype <> 'i')
              AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.conindid = i.indexrelid AND f.contype = 'f')
              AND NOT EXISTS (SELECT 1 FROM pg_description c WHERE c.objoid = i.indexrelid OR c.objoid = con.oid)
              AND NOT EXISTS (SELECT 1 FROM pg_seclabel s WHERE s.objoid = i.indexrelid OR s.objoid = con.oid)
              AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = i.indexrelid AND coalesce(a.attstattarget, -1) >= 0)
            ORDER BY i.indexrelid
            """, connection))
        {
            command.Parameters.AddWithValue(table.Quoted);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                definitions.Add(new Definition(reader.GetString(0), reader.GetString(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3)));
            }
        }

        if (definitions.Count == 0) return new DeferredIndexes(table, []);
        // A drop refused for a reason the query did not foresee costs speed, never the copy: back to the indexes as they were.
        await TableSizedStatement.ExecuteAsync(connection, "SAVEPOINT datasync_deferred_indexes", cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var definition in definitions)
            {
                var sql = definition.Constraint is null
                    ? $"DROP INDEX {SqlIdentifier.Quote(table.Schema)}.{SqlIdentifier.Quote(definition.Index)}"
                    : $"ALTER TABLE {table.Quoted} DROP CONSTRAINT {SqlIdentifier.Quote(definition.Constraint)}";
                await TableSizedStatement.ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PostgresException)
        {
            await TableSizedStatement.ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_deferred_indexes", cancellationToken).ConfigureAwait(false);
            await TableSizedStatement.ExecuteAsync(connection, "RELEASE SAVEPOINT datasync_deferred_indexes", cancellationToken).ConfigureAwait(false);
            return new DeferredIndexes(table, []);
        }

        await TableSizedStatement.ExecuteAsync(connection, "RELEASE SAVEPOINT datasync_deferred_indexes", cancellationToken).ConfigureAwait(false);
        return new DeferredIndexes(table, definitions);
    }

    /// <summary>Builds the dropped indexes again over the copied rows, in the order they had (constraints as constraints, by their names).</summary>
    public async Task RebuildAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (_dropped.Count == 0) return;
        // The build sorts every key of the copied rows. With the server's default maintenance_work_mem (64 MB) the sort of a
        // table of a few million rows spills to disk, and it also allows at most one parallel worker (each participant needs
        // 32 MB of it); with 256 MB a 1 GB table's primary key is sorted in memory by two workers and the leader. Raised for
        // this transaction alone, and never lowered where the local server was given more.
        await using (var raise = new NpgsqlCommand(
            "SELECT set_config('maintenance_work_mem', $1, true) FROM pg_settings WHERE name = 'maintenance_work_mem' AND setting::bigint < $2", connection))
        {
            raise.Parameters.AddWithValue(BuildMemoryKiB + "kB");
            raise.Parameters.AddWithValue((long)BuildMemoryKiB);
            await raise.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        foreach (var definition in _dropped)
        {
            var sql = definition.Constraint is null
                ? definition.IndexDefinition
                : $"ALTER TABLE {_table.Quoted} ADD CONSTRAINT {SqlIdentifier.Quote(definition.Constraint)} {definition.ConstraintDefinition}";
            await TableSizedStatement.ExecuteAsync(connection, sql, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The maintenance_work_mem the rebuild gets at least, in kB (256 MB).</summary>
    internal const int BuildMemoryKiB = 256 * 1024;
}
