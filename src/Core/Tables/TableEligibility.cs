using DataSync.Core.Bootstrap;
using DataSync.Wal.Catalog;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Core.Tables;

/// <summary>
/// Decides whether a local table can be synced, with the reason when it cannot: it must exist as a
/// logged table (plain or partitioned), have a key that updates and deletes can be matched on, and use only column
/// types the decoder converts (<see cref="SupportedTypes.WhyUnsupported"/>).
/// </summary>
public static class TableEligibility
{
    /// <summary>Null when the table can be synced, otherwise why not.</summary>
    public static async Task<string?> CheckAsync(NpgsqlConnection connection, TableName table, CancellationToken cancellationToken = default)
    {
        uint relationId;
        await using (var command = new NpgsqlCommand("""
            SELECT c.oid, c.relkind::text, c.relpersistence::text, c.relreplident::text,
                   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),
                   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisreplident)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relname = $2
            """, connection))
        {
            command.Parameters.AddWithValue(table.Schema);
            command.Parameters.AddWithValue(table.Name);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.DisposeAsync().ConfigureAwait(false);
                return await NotFoundAsync(connection, table, cancellationToken).ConfigureAwait(false);
            }

            relationId = reader.GetFieldValue<uint>(0);
            var kind = reader.GetString(1);
            var persistence = reader.GetString(2);
            var replicaIdentity = reader.GetString(3);
            var hasPrimaryKey = reader.GetBoolean(4);
            var hasIdentityIndex = reader.GetBoolean(5);
            var kindProblem = kind switch
            {
                // A partitioned table is synced whole: its partitions' rows are applied to it and routed locally.
                "r" or "p" => null,
                "v" => "is a view, not a table",
                "m" => "is a materialized view, not a table",
                "f" => "is a foreign table, not a table",
                "S" => "is a sequence, not a table",
                _ => $"is not a table (relkind '{kind}')",
            };
            if (kindProblem is not null) return kindProblem;
            if (persistence == "u")
                return "is an unlogged table: its changes never reach the WAL (and a restored backup holds it empty); make it logged in production and locally (ALTER TABLE ... SET LOGGED)";
            if (persistence != "p") return "is a temporary table: it lives in one session and its changes never reach the WAL";
            if (replicaIdentity == "n") return "has REPLICA IDENTITY NOTHING: its updates and deletes carry no key to match local rows";
            if (replicaIdentity == "f" && !hasPrimaryKey)
                return "has REPLICA IDENTITY FULL and no primary key: rows that are equal or hold NULLs cannot be told apart when an update or delete " +
                       "is applied; give the table a primary key (in production and locally)";
            if (!hasPrimaryKey && !hasIdentityIndex)
                return "has no primary key or replica identity index: updates and deletes could not be matched to local rows";
        }

        var columns = new List<(string Name, uint Type, string TypeText)>();
        await using (var command = new NpgsqlCommand("""
            SELECT a.attname, a.atttypid, format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = relationId, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                columns.Add((reader.GetString(0), reader.GetFieldValue<uint>(1), reader.GetString(2)));
        }

        // The decoder's own rule decides (SupportedTypes.WhyUnsupported), over the types these columns reach.
        var types = new TypeRegistry(await ProductionCatalogReader.ReadTypesAsync(connection, [relationId], cancellationToken).ConfigureAwait(false), []);
        foreach (var (name, type, typeText) in columns)
        {
            if (SupportedTypes.WhyUnsupported(type, types) is { } reason)
            {
                return $"column {SqlIdentifier.Quote(name)} has type {typeText}, which the decoder does not support " +
                       $"({reason}; supported: {string.Join(", ", SupportedTypes.BaseTypes.Values.Order(StringComparer.Ordinal))}, the extension types " +
                       $"{string.Join(", ", SupportedTypes.ExtensionTypes.Keys.Select(k => k.Type).Order(StringComparer.Ordinal))}, enums, " +
                       "and arrays, domains, ranges and composite types of these)";
            }
        }

        return null;
    }

    /// <summary>
    /// Why a table is not there: the name may be right but in another schema than the one given (or
    /// <c>public</c>, when none was), and then the message names the schemas that have it.
    /// </summary>
    private static async Task<string> NotFoundAsync(NpgsqlConnection connection, TableName table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT n.nspname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
            ORDER BY 1
            """, connection);
        command.Parameters.AddWithValue(table.Name);
        var schemas = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) schemas.Add(reader.GetString(0));
        }

        if (schemas.Count == 0)
            return $"no such table in the local database '{connection.Database}' (create it with the same DDL as production first)";
        var elsewhere = schemas.Select(schema => new TableName(schema, table.Name).ToString()).ToList();
        return $"no such table in schema {table.Schema} of the local database '{connection.Database}', but {string.Join(", ", elsewhere)} " +
               $"{(elsewhere.Count == 1 ? "exists" : "exist")}: name the schema (datasync add-tables {elsewhere[0]})";
    }
}
