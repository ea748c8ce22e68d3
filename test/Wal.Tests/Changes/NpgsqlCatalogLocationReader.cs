using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using Npgsql;

namespace DataSync.Wal.Tests.Changes;

/// <summary>Runs <see cref="CatalogLocationQueries"/> with Npgsql, as the temporary restore will.</summary>
internal static class NpgsqlCatalogLocationReader
{
    public static async Task<CatalogLocations> ReadAsync(NpgsqlConnection connection, CatalogSnapshot catalog)
    {
        uint database, pgClass, pgAttribute;
        await using (var command = new NpgsqlCommand(CatalogLocationQueries.Files, connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            database = reader.GetFieldValue<uint>(0);
            pgClass = reader.GetFieldValue<uint>(1);
            pgAttribute = reader.GetFieldValue<uint>(2);
        }

        var rows = new List<CatalogRowLocation>();
        await using (var command = new NpgsqlCommand(CatalogLocationQueries.Rows, connection))
        {
            command.Parameters.AddWithValue(catalog.Tables.Select(t => (long)t.RelationOid).ToArray());
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
                rows.Add(new CatalogRowLocation(reader.GetFieldValue<uint>(0), reader.GetInt16(1), (uint)reader.GetInt64(2), (ushort)reader.GetInt32(3)));
        }

        return new CatalogLocations(database, pgClass, pgAttribute, rows);
    }
}
