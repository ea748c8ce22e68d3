using DataSync.Core.Bootstrap;
using DataSync.Core.Tables;
using DataSync.Wal.Catalog;
using Npgsql;

namespace DataSync.Wal.Tests.Catalog;

/// <summary>Reads the catalog with the product's own reader, as the temporary restore does; names as SQL resolves them.</summary>
internal static class NpgsqlCatalogReader
{
    public static async Task<CatalogSnapshot> ReadAsync(NpgsqlConnection connection, params string[] tableNames) =>
        (await ProductionCatalogReader.ReadAsync(connection, tableNames.Select(TableNameParser.Parse).ToList(), Lsn.Invalid, CancellationToken.None)).Catalog;
}
