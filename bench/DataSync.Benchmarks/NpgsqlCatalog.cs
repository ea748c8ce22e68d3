using DataSync.Core.Catalog;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using Npgsql;

namespace DataSync.Benchmarks;

/// <summary>Reads the catalog snapshot and the catalog row locations of the benchmark's tables (the queries' columns in order).</summary>
internal static class NpgsqlCatalog
{
    public static async Task<(CatalogSnapshot Catalog, CatalogLocations Locations)> ReadAsync(NpgsqlConnection connection, params string[] tableNames)
    {
        var tables = await RowsAsync(connection, CatalogQueries.Tables, tableNames, r => new TableRow(r.GetFieldValue<uint>(0), r.GetString(1), r.GetString(2),
            r.GetFieldValue<uint>(3), r.GetFieldValue<uint>(4), r.GetFieldValue<uint>(5), r.GetFieldValue<uint>(6), r.GetFieldValue<uint>(7),
            Char(r.GetString(8)), r.GetFieldValue<short[]>(9)));
        var oids = tables.Select(t => (long)t.RelationOid).ToArray();
        var columns = await RowsAsync(connection, CatalogQueries.Columns, oids, r => new ColumnRow(r.GetFieldValue<uint>(0), r.GetInt16(1), r.GetString(2),
            r.GetFieldValue<uint>(3), r.GetInt32(4), r.GetInt16(5), Char(r.GetString(6)), r.GetBoolean(7), Char(r.GetString(8)), r.GetBoolean(9),
            r.GetBoolean(10), r.GetBoolean(11), r.IsDBNull(12) ? null : r.GetFieldValue<byte[]>(12), Char(r.GetString(13))));
        var types = await RowsAsync(connection, CatalogQueries.Types, oids, r => new TypeDescriptor(r.GetFieldValue<uint>(0), r.GetString(1), r.GetString(2),
            Char(r.GetString(3)), r.GetInt16(4), r.GetBoolean(5), Char(r.GetString(6)), Char(r.GetString(7)), r.GetFieldValue<uint>(8),
            r.GetFieldValue<uint>(9), r.GetFieldValue<uint>(10), r.GetBoolean(11), r.GetFieldValue<uint>(12)));
        var enums = await RowsAsync(connection, CatalogQueries.EnumLabels, types.Where(t => t.IsEnum).Select(t => (long)t.Oid).ToArray(),
            r => new EnumLabel(r.GetFieldValue<uint>(0), r.GetFieldValue<uint>(1), r.GetFloat(2), r.GetString(3)));
        var catalog = CatalogBuilder.Build(DataSync.Wal.Lsn.Invalid, tables, columns, types, enums);

        var files = (await RowsAsync(connection, CatalogLocationQueries.Files, null,
            r => (r.GetFieldValue<uint>(0), r.GetFieldValue<uint>(1), r.GetFieldValue<uint>(2)))).Single();
        var rows = await RowsAsync(connection, CatalogLocationQueries.Rows, oids,
            r => new CatalogRowLocation(r.GetFieldValue<uint>(0), r.GetInt16(1), (uint)r.GetInt64(2), (ushort)r.GetInt32(3)));
        return (catalog, new CatalogLocations(files.Item1, files.Item2, files.Item3, rows));
    }

    private static async Task<List<T>> RowsAsync<T>(NpgsqlConnection connection, string sql, object? parameter, Func<NpgsqlDataReader, T> map)
    {
        var rows = new List<T>();
        await using var command = new NpgsqlCommand(sql, connection);
        if (parameter is not null) command.Parameters.AddWithValue(parameter);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(map(reader));
        return rows;
    }

    private static char Char(string value) => value.Length == 0 ? '\0' : value[0];
}
