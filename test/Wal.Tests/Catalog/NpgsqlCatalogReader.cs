using DataSync.Wal.Catalog;
using Npgsql;

namespace DataSync.Wal.Tests.Catalog;

/// <summary>Runs <see cref="CatalogQueries"/> with Npgsql, as the temporary restore will, and builds the snapshot.</summary>
internal static class NpgsqlCatalogReader
{
    public static async Task<CatalogSnapshot> ReadAsync(NpgsqlConnection connection, params string[] tableNames)
    {
        var tables = new List<TableRow>();
        await using (var command = new NpgsqlCommand(CatalogQueries.Tables, connection))
        {
            command.Parameters.AddWithValue(tableNames);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(new TableRow(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2),
                    reader.GetFieldValue<uint>(3), reader.GetFieldValue<uint>(4), reader.GetFieldValue<uint>(5),
                    reader.GetFieldValue<uint>(6), reader.GetFieldValue<uint>(7), Char(reader.GetString(8)),
                    reader.GetFieldValue<short[]>(9)));
            }
        }

        var relationOids = tables.Select(t => (long)t.RelationOid).ToArray();
        var columns = new List<ColumnRow>();
        await using (var command = new NpgsqlCommand(CatalogQueries.Columns, connection))
        {
            command.Parameters.AddWithValue(relationOids);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                columns.Add(new ColumnRow(reader.GetFieldValue<uint>(0), reader.GetInt16(1), reader.GetString(2),
                    reader.GetFieldValue<uint>(3), reader.GetInt32(4), reader.GetInt16(5), Char(reader.GetString(6)),
                    reader.GetBoolean(7), Char(reader.GetString(8)), reader.GetBoolean(9), reader.GetBoolean(10),
                    reader.GetBoolean(11), reader.IsDBNull(12) ? null : reader.GetFieldValue<byte[]>(12), Char(reader.GetString(13))));
            }
        }

        var types = new List<TypeDescriptor>();
        await using (var command = new NpgsqlCommand(CatalogQueries.Types, connection))
        {
            command.Parameters.AddWithValue(relationOids);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                types.Add(new TypeDescriptor(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2),
                    Char(reader.GetString(3)), reader.GetInt16(4), reader.GetBoolean(5), Char(reader.GetString(6)),
                    Char(reader.GetString(7)), reader.GetFieldValue<uint>(8), reader.GetFieldValue<uint>(9),
                    reader.GetFieldValue<uint>(10), reader.GetBoolean(11)));
            }
        }

        var enums = new List<EnumLabel>();
        await using (var command = new NpgsqlCommand(CatalogQueries.EnumLabels, connection))
        {
            command.Parameters.AddWithValue(types.Where(t => t.IsEnum).Select(t => (long)t.Oid).ToArray());
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                enums.Add(new EnumLabel(reader.GetFieldValue<uint>(0), reader.GetFieldValue<uint>(1), reader.GetFloat(2), reader.GetString(3)));
        }

        return CatalogBuilder.Build(Lsn.Invalid, tables, columns, types, enums);
    }

    private static char Char(string value) => value.Length == 0 ? '\0' : value[0];
}
