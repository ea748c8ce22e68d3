using DataSync.Core.Catalog;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// Reads production's catalog for the synced tables from a server that shows production at one
/// WAL position (the paused temporary restore): the table and type descriptions the decoder needs,
/// and where those tables' catalog rows sit, so catalog changes can be recognised in the WAL.
/// </summary>
public static class ProductionCatalogReader
{
    public static async Task<(CatalogSnapshot Catalog, CatalogLocations Locations)> ReadAsync(
        NpgsqlConnection connection, IReadOnlyList<TableName> tables, Lsn position, CancellationToken cancellationToken)
    {
        string encoding;
        // Production's text is stored in its database encoding; one the decoder cannot turn into UTF8 is refused here.
        await using (var encodingCommand = new NpgsqlCommand("SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = current_database()", connection))
            encoding = (string)(await encodingCommand.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        try
        {
            ServerTextEncoding.For(encoding);
        }
        catch (UnsupportedEncodingException e)
        {
            throw new InvalidOperationException($"cannot sync {string.Join(", ", tables)} from database '{connection.Database}' at {position}: {e.Message}", e);
        }

        var tableRows = new List<TableRow>();
        await using (var command = new NpgsqlCommand(CatalogQueries.Tables, connection))
        {
            command.Parameters.AddWithValue(tables.Select(t => t.Quoted).ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tableRows.Add(new TableRow(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2),
                    reader.GetFieldValue<uint>(3), reader.GetFieldValue<uint>(4), reader.GetFieldValue<uint>(5),
                    reader.GetFieldValue<uint>(6), reader.GetFieldValue<uint>(7), Char(reader.GetString(8)),
                    reader.GetFieldValue<short[]>(9), reader.IsDBNull(10) ? null : reader.GetString(10),
                    reader.IsDBNull(11) ? null : reader.GetString(11), reader.GetFieldValue<uint>(12)));
            }
        }

        var missing = tables.Where(t => !tableRows.Any(r => r.Schema == t.Schema && r.Name == t.Name)).ToList();
        if (missing.Count > 0)
            throw new InvalidOperationException($"production's database '{connection.Database}' has no table {string.Join(", ", missing)} at {position}");
        await RefuseUnsyncableAsync(connection, tables, position, cancellationToken).ConfigureAwait(false);

        var relationOids = tableRows.Select(t => (long)t.RelationOid).ToArray();
        var columns = await ReadColumnsAsync(connection, relationOids, cancellationToken).ConfigureAwait(false);

        var types = await ReadTypesAsync(connection, relationOids, cancellationToken).ConfigureAwait(false);

        var enums = new List<EnumLabel>();
        await using (var command = new NpgsqlCommand(CatalogQueries.EnumLabels, connection))
        {
            command.Parameters.AddWithValue(types.Where(t => t.IsEnum).Select(t => (long)t.Oid).ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                enums.Add(new EnumLabel(reader.GetFieldValue<uint>(0), reader.GetFieldValue<uint>(1), reader.GetFloat(2), reader.GetString(3)));
        }

        var catalog = CatalogBuilder.Build(position, tableRows, columns, types, enums) with { ServerEncoding = encoding };

        uint database, pgClass, pgAttribute, pgInherits, pgIndex;
        await using (var command = new NpgsqlCommand(CatalogLocationQueries.Files, connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            database = reader.GetFieldValue<uint>(0);
            pgClass = reader.GetFieldValue<uint>(1);
            pgAttribute = reader.GetFieldValue<uint>(2);
            pgInherits = reader.GetFieldValue<uint>(3);
            pgIndex = reader.GetFieldValue<uint>(4);
        }

        var rows = new List<CatalogRowLocation>();
        await using (var command = new NpgsqlCommand(CatalogLocationQueries.Rows, connection))
        {
            // The composite types' relations too: their attributes change with ALTER TYPE, not with the tables using them.
            command.Parameters.AddWithValue(relationOids.Concat(types.Where(t => t.IsComposite && t.RelationOid != 0).Select(t => (long)t.RelationOid)).Distinct().ToArray());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var relation = reader.GetFieldValue<uint>(0);
                var attNum = reader.GetInt16(1);
                var definition = CatalogLocationQueries.Definition(relation, attNum, reader.GetFieldValue<byte[]>(4), reader.GetFieldValue<uint>(5),
                    reader.GetFieldValue<uint>(6), reader.GetFieldValue<uint>(7), reader.GetInt32(8), reader.GetInt16(9), reader.GetFieldValue<short[]>(10));
                rows.Add(new CatalogRowLocation(relation, attNum, (uint)reader.GetInt64(2), (ushort)reader.GetInt32(3), definition));
            }
        }

        return (catalog, new CatalogLocations(database, pgClass, pgAttribute, rows, pgInherits, pgIndex));
    }

    /// <summary>
    /// Production's side of what add-tables checks locally: a table (or partition of a synced partitioned table) that is
    /// unlogged there never reaches the WAL and a restored backup holds it empty; one with REPLICA IDENTITY FULL or
    /// NOTHING and no primary key gives updates and deletes nothing to match local rows on.
    /// </summary>
    private static async Task RefuseUnsyncableAsync(NpgsqlConnection connection, IReadOnlyList<TableName> tables, Lsn position, CancellationToken cancellationToken)
    {
        var problems = await UnsyncableAsync(connection, tables, cancellationToken).ConfigureAwait(false);
        if (problems.Count > 0)
            throw new InvalidOperationException($"cannot sync from production's database '{connection.Database}' at {position}: {string.Join("; ", problems.Select(p => p.Problem))}");
    }

    /// <summary>
    /// The synced tables among <paramref name="tables"/> that production has in a form that cannot be synced (see
    /// <see cref="RefuseUnsyncableAsync"/>), each with why and what to do; a table with several problems comes once per problem.
    /// </summary>
    public static async Task<IReadOnlyList<(TableName Table, string Problem)>> UnsyncableAsync(NpgsqlConnection connection, IReadOnlyList<TableName> tables,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT wn.nspname::text, w.relname::text, n.nspname::text, c.relname::text, c.relpersistence::text, c.relreplident::text,
                   EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR i.indisreplident))
            FROM unnest($1::text[]) AS wanted(name)
            JOIN pg_class w ON w.oid = to_regclass(wanted.name)
            JOIN pg_namespace wn ON wn.oid = w.relnamespace
            CROSS JOIN LATERAL (SELECT w.oid WHERE w.relkind = 'r'
                                UNION ALL
                                SELECT tree.relid FROM pg_partition_tree(w.oid) tree WHERE w.relkind = 'p') AS member(oid)
            JOIN pg_class c ON c.oid = member.oid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relpersistence <> 'p' OR (c.relkind = 'r' AND c.relreplident IN ('f', 'n')
                  AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary))
            """, connection);
        command.Parameters.AddWithValue(tables.Select(t => t.Quoted).ToArray());
        var problems = new List<(TableName, string)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var synced = new TableName(reader.GetString(0), reader.GetString(1));
                var relation = new TableName(reader.GetString(2), reader.GetString(3));
                var which = relation == synced ? $"table {synced}" : $"partition {relation} of table {synced}";
                problems.Add((synced, reader.GetString(4) != "p"
                    ? $"production's {which} is unlogged: its changes never reach the WAL and a restored base backup holds it empty; " +
                      $"make it logged there (ALTER TABLE {relation.Quoted} SET LOGGED) or run: datasync remove-tables {synced}"
                    : $"production's {which} has REPLICA IDENTITY {(reader.GetString(5) == "f" ? "FULL" : "NOTHING")} and no primary key: its updates and " +
                      $"deletes cannot be matched to local rows; give it a primary key there or run: datasync remove-tables {synced}"));
            }
        }

        return problems;
    }

    /// <summary>Every type the columns of the given relations reach (array elements, domain bases, composite
    /// attributes followed), composites with their attributes.</summary>
    public static async Task<List<TypeDescriptor>> ReadTypesAsync(NpgsqlConnection connection, long[] relationOids, CancellationToken cancellationToken)
    {
        var types = new List<TypeDescriptor>();
        await using (var command = new NpgsqlCommand(CatalogQueries.Types, connection))
        {
            command.Parameters.AddWithValue(relationOids);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                types.Add(new TypeDescriptor(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2),
                    Char(reader.GetString(3)), reader.GetInt16(4), reader.GetBoolean(5), Char(reader.GetString(6)),
                    Char(reader.GetString(7)), reader.GetFieldValue<uint>(8), reader.GetFieldValue<uint>(9),
                    reader.GetFieldValue<uint>(10), reader.GetBoolean(11), reader.GetFieldValue<uint>(12),
                    reader.IsDBNull(13) ? null : reader.GetString(13)));
            }
        }

        // A composite's values are tuples laid out by its relation's attributes: the same rows a table's columns come from.
        var relations = types.Where(t => t.IsComposite && t.RelationOid != 0).Select(t => (long)t.RelationOid).ToArray();
        if (relations.Length == 0) return types;
        var attributes = (await ReadColumnsAsync(connection, relations, cancellationToken).ConfigureAwait(false))
            .GroupBy(c => c.RelationOid)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<ColumnDescriptor>)g.OrderBy(c => c.AttNum)
                .Select(c => new ColumnDescriptor(c.AttNum, c.Name, c.TypeOid, c.TypeModifier, c.Length, c.Alignment, c.ByValue, c.Storage,
                    c.IsDropped, c.NotNull, false, null, c.Generated)).ToList());
        return types.Select(t => t.IsComposite && attributes.TryGetValue(t.RelationOid, out var list) ? t with { Attributes = list } : t).ToList();
    }

    private static async Task<List<ColumnRow>> ReadColumnsAsync(NpgsqlConnection connection, long[] relationOids, CancellationToken cancellationToken)
    {
        var columns = new List<ColumnRow>();
        await using var command = new NpgsqlCommand(CatalogQueries.Columns, connection);
        command.Parameters.AddWithValue(relationOids);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            columns.Add(new ColumnRow(reader.GetFieldValue<uint>(0), reader.GetInt16(1), reader.GetString(2),
                reader.GetFieldValue<uint>(3), reader.GetInt32(4), reader.GetInt16(5), Char(reader.GetString(6)),
                reader.GetBoolean(7), Char(reader.GetString(8)), reader.GetBoolean(9), reader.GetBoolean(10),
                reader.GetBoolean(11), reader.IsDBNull(12) ? null : reader.GetFieldValue<byte[]>(12), Char(reader.GetString(13)),
                reader.IsDBNull(14) ? null : reader.GetString(14)));
        }

        return columns;
    }

    private static char Char(string value) => value.Length == 0 ? '\0' : value[0];
}
