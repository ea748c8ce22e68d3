using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Core.Tables;

/// <summary>
/// A column binary COPY cannot carry: its type (an array's element type, a domain's base type) has no binary send or
/// receive function, as with the isn types. Its values travel as text instead, into a <c>text</c> column of a staging
/// table, and are cast to the column's type by the statement that moves them into the table.
/// </summary>
/// <param name="Name">The column.</param>
/// <param name="CastTarget">The column's type as a cast target: schema and type name as the catalog has them, each quoted.</param>
/// <param name="ExactTextVia">A type, quoted and schema-qualified, to cast a value to before text so that the server prints
/// text that reads back to the same value (<see cref="SupportedTypes.ExactTextVia"/>); with <paramref name="ViaArray"/>, its
/// array type. Null when the type's own output is exact.</param>
public sealed record TextCarriedColumn(string Name, string CastTarget, string? ExactTextVia, bool ViaArray)
{
    /// <summary><paramref name="value"/>, a staged text value of this column, cast to the column's type.</summary>
    public string FromText(string value) => $"{value}::{CastTarget}";

    /// <summary>SQL for the exact text of <paramref name="value"/>, a value of this column's type.</summary>
    public string ToText(string value) => ExactTextVia is null ? $"{value}::text" : $"{value}::{ExactTextVia}{(ViaArray ? "[]" : "")}::text";

    /// <summary>
    /// The columns of <paramref name="table"/> on the server behind <paramref name="connection"/> (the local database, or the
    /// temporary restore) that binary COPY cannot carry, by name. Follows domains to their base types and arrays to their
    /// elements; a type is found wanting when the innermost one lacks a binary send or receive function.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, TextCarriedColumn>> ReadAsync(NpgsqlConnection connection, TableName table,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            WITH RECURSIVE reach(attname, column_type, type, arrays, depth) AS (
                SELECT a.attname, a.atttypid, a.atttypid, 0, 0
                FROM pg_attribute a
                WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
              UNION ALL
                SELECT r.attname, r.column_type, CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.typelem END,
                       r.arrays + CASE WHEN t.typtype = 'd' THEN 0 ELSE 1 END, r.depth + 1
                FROM reach r
                JOIN pg_type t ON t.oid = r.type
                WHERE r.depth < 16 AND (t.typtype = 'd' OR t.typsubscript = 'array_subscript_handler'::regproc)
            )
            SELECT r.attname::text, cn.nspname::text, ct.typname::text, n.nspname::text, r.arrays > 0,
                   (SELECT e.extname::text FROM pg_depend dep JOIN pg_extension e ON e.oid = dep.refobjid
                    WHERE dep.classid = 'pg_catalog.pg_type'::regclass AND dep.objid = t.oid
                      AND dep.refclassid = 'pg_catalog.pg_extension'::regclass AND dep.deptype = 'e')
            FROM reach r
            JOIN pg_type t ON t.oid = r.type
            JOIN pg_namespace n ON n.oid = t.typnamespace
            JOIN pg_type ct ON ct.oid = r.column_type
            JOIN pg_namespace cn ON cn.oid = ct.typnamespace
            WHERE t.typtype <> 'd' AND t.typsubscript <> 'array_subscript_handler'::regproc
              AND (t.typsend::oid = 0 OR t.typreceive::oid = 0)
            """, connection);
        command.Parameters.AddWithValue(table.Quoted);
        var columns = new Dictionary<string, TextCarriedColumn>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var name = reader.GetString(0);
            var castTarget = SqlIdentifier.Quote(reader.GetString(1)) + "." + SqlIdentifier.Quote(reader.GetString(2));
            var via = !reader.IsDBNull(5) && SupportedTypes.ExactTextVia.TryGetValue(reader.GetString(5), out var viaType)
                ? SqlIdentifier.Quote(reader.GetString(3)) + "." + SqlIdentifier.Quote(viaType)
                : null;
            columns[name] = new TextCarriedColumn(name, castTarget, via, reader.GetBoolean(4));
        }

        return columns;
    }
}
