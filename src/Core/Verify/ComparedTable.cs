using System.Text;
using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Core.Verify;

/// <summary>One key column of a compared table: its name, its type as SQL spells it, and whether it has a collation.</summary>
public sealed record KeyColumn(string Name, string Type, bool Collatable);

/// <summary>
/// A synced table as <c>datasync verify</c> compares it: its key (the replica identity index, else the primary key, the
/// columns the sync matches rows on) and the columns that are compared (every stored column; generated ones are
/// computed from them on each side). It writes the SQL both sides run, so the two sides hash the same text the same way:
/// rows ordered by the key with collatable key columns in the "C" collation (production's locale and the local one may
/// sort text differently), each row's text hashed as UTF-8 (production's database may use another encoding).
/// </summary>
public sealed class ComparedTable
{
    private ComparedTable(TableName table, IReadOnlyList<KeyColumn> key, IReadOnlyList<string> columns)
    {
        Table = table;
        Key = key;
        Columns = columns;
    }

    public TableName Table { get; }

    public IReadOnlyList<KeyColumn> Key { get; }

    public IReadOnlyList<string> Columns { get; }

    /// <summary>The quoted column list, for SELECT and COPY.</summary>
    public string ColumnList => string.Join(", ", Columns.Select(SqlIdentifier.Quote));

    /// <summary>Reads the key and the columns from the local table.</summary>
    public static async Task<ComparedTable> ReadAsync(NpgsqlConnection local, TableName table, CancellationToken cancellationToken)
    {
        var key = new List<KeyColumn>();
        await using (var command = new NpgsqlCommand("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attcollation <> 0
            FROM (SELECT i.indkey::int2[] AS keys
                  FROM pg_index i
                  WHERE i.indrelid = to_regclass($1) AND (i.indisreplident OR i.indisprimary)
                  ORDER BY i.indisreplident DESC
                  LIMIT 1) k
            CROSS JOIN LATERAL unnest(k.keys) WITH ORDINALITY AS u(attnum, position)
            JOIN pg_attribute a ON a.attrelid = to_regclass($1) AND a.attnum = u.attnum
            ORDER BY u.position
            """, local))
        {
            command.Parameters.AddWithValue(table.Quoted);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) key.Add(new KeyColumn(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
        }

        if (key.Count == 0) throw new InvalidOperationException($"the local table {table} has no primary key or replica identity index to compare its rows by");

        var columns = new List<string>();
        await using (var command = new NpgsqlCommand("""
            SELECT attname FROM pg_attribute
            WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
            ORDER BY attnum
            """, local))
        {
            command.Parameters.AddWithValue(table.Quoted);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) columns.Add(reader.GetString(0));
        }

        return new ComparedTable(table, key, columns);
    }

    /// <summary>
    /// Session settings under which a value's text is the same on both servers: times in UTC and ISO form, floats that
    /// round-trip, bytea in hex. Run on each side's connection before comparing.
    /// </summary>
    public const string SessionSettings =
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 1; SET bytea_output = 'hex'";

    /// <summary>The key columns in comparison order (collatable ones in "C").</summary>
    public string KeyOrder => string.Join(", ", Key.Select(OrderedColumn));

    /// <summary>The md5 (hex) of one row's text, as UTF-8.</summary>
    public string RowHash => $"md5(convert_to(ROW({ColumnList})::text, 'UTF8'))";

    /// <summary>
    /// The key columns' text, one expression each, under names of their own: a bare output name equal to a column's would
    /// be what an ORDER BY of that column sorts by (the text, not the value).
    /// </summary>
    public string KeyText => string.Join(", ", Key.Select((k, i) => $"{SqlIdentifier.Quote(k.Name)}::text AS datasync_key_{i}"));

    /// <summary>Rows after <paramref name="after"/> (exclusive) up to <paramref name="through"/> (inclusive); a null end is open.</summary>
    public string RangeCondition(KeyValue? after, KeyValue? through)
    {
        var parts = new List<string>();
        if (after is not null) parts.Add($"({KeyOrder}) > ({Literals(after)})");
        if (through is not null) parts.Add($"({KeyOrder}) <= ({Literals(through)})");
        return parts.Count == 0 ? "true" : string.Join(" AND ", parts);
    }

    /// <summary>Rows whose key is one of <paramref name="keys"/> (equality needs no collation: the kept ones are deterministic).</summary>
    public string KeyIn(IEnumerable<KeyValue> keys) =>
        $"({string.Join(", ", Key.Select(k => SqlIdentifier.Quote(k.Name)))}) IN ({string.Join(", ", keys.Select(k => $"({Literals(k)})"))})";

    /// <summary>The key's values as typed SQL literals, in key order.</summary>
    public string Literals(KeyValue key)
    {
        var literals = new StringBuilder();
        for (var i = 0; i < Key.Count; i++)
        {
            if (i > 0) literals.Append(", ");
            // Values come back from the servers as text and go back in as literals of their own type; a quote inside is doubled.
            literals.Append('\'').Append(key.Parts[i].Replace("'", "''", StringComparison.Ordinal)).Append("'::").Append(Key[i].Type);
            if (Key[i].Collatable) literals.Append(" COLLATE \"C\"");
        }

        return literals.ToString();
    }

    /// <summary>The key as a reader says it: <c>id=42</c>, or <c>a=1, b=x</c>.</summary>
    public string Describe(KeyValue key) => string.Join(", ", Key.Select((k, i) => $"{k.Name}={key.Parts[i]}"));

    private static string OrderedColumn(KeyColumn column) =>
        column.Collatable ? $"{SqlIdentifier.Quote(column.Name)} COLLATE \"C\"" : SqlIdentifier.Quote(column.Name);
}
