using DataSync.Core.Apply;
using DataSync.Core.Bootstrap;
using DataSync.Core.Configuration;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;

namespace DataSync.Core.Tests.Apply;

/// <summary>
/// The staging table adds columns of its own (operation, LSN, TOAST mask, original key) beside the table's. A table
/// whose columns carry those very names, in the key too, and one more underscore's worth, must apply like any other.
/// </summary>
public sealed class StagingColumnNamesTests
{
    private const string Ddl = """
        CREATE TABLE odd ("_ds_op" int, "_ds_ok0" text, "_ds_lsn" bigint, "_ds_mask" int, "__ds_op" text, "_ds_ok1" text, doc text,
                          PRIMARY KEY ("_ds_op", "_ds_ok0"));
        """;

    private const string Initial = """
        INSERT INTO odd SELECT g, 'k' || g, g * 10, g % 3, 'u' || g, 'o' || g,
            CASE WHEN g % 4 = 0 THEN (SELECT string_agg(md5(g::text || i::text), '') FROM generate_series(1, 200) i) END
        FROM generate_series(1, 300) g;
        """;

    private const string Workload = """
        INSERT INTO odd SELECT g, 'k' || g, g, 0, 'new', NULL, NULL FROM generate_series(301, 400) g;
        UPDATE odd SET "_ds_lsn" = -1, "_ds_mask" = 7 WHERE "_ds_op" % 4 = 0;          -- TOASTed doc left untouched
        UPDATE odd SET "__ds_op" = 'changed', "_ds_ok1" = NULL WHERE "_ds_op" % 3 = 0;
        UPDATE odd SET "_ds_ok0" = "_ds_ok0" || '-moved' WHERE "_ds_op" % 7 = 0;         -- key change
        UPDATE odd SET "_ds_op" = "_ds_op" + 1000 WHERE "_ds_op" % 11 = 0;              -- key change
        DELETE FROM odd WHERE "_ds_op" % 5 = 0;
        BEGIN; DELETE FROM odd WHERE "_ds_op" = 1; INSERT INTO odd VALUES (1, 'k1', 0, 0, 'reborn', NULL, NULL); COMMIT;
        """;

    private const string Checksum = """SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY "_ds_op", "_ds_ok0"), '')) FROM odd t""";

    [Theory]
    [InlineData(OnConflict.Fail)]
    [InlineData(OnConflict.Overwrite)]
    public async Task A_table_with_columns_named_like_the_staging_columns_applies_identically(OnConflict onConflict)
    {
        var name = $"staging-names-{onConflict.ToString().ToLowerInvariant()}";
        await using var production = await ProductionCluster.StartAsync(name);
        await using var local = await LocalCluster.StartAsync(name);
        await production.ExecuteAsync(Ddl + Initial);
        await local.ExecuteAsync(Ddl);
        var table = new TableName("public", "odd");
        Lsn start;
        Wal.Catalog.CatalogSnapshot catalog;
        CatalogLocations locations;
        await using (var source = await production.Server.OpenAsync(ProductionCluster.Database))
        await using (var target = await local.Server.OpenAsync(LocalCluster.Database))
        {
            await TableCopier.CopyAsync(source, target, table, await TableCopier.CopyableColumnsAsync(source, table, CancellationToken.None), freeze: false, CancellationToken.None);
            start = Lsn.Parse(await production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
            (catalog, locations) = await ProductionCatalogReader.ReadAsync(source, [table], start, CancellationToken.None);
        }

        await production.ExecuteAsync(Workload);
        // With overwrite, a row made by hand meets an insert of the same key: the conflicting insert goes through the stage too.
        if (onConflict == OnConflict.Overwrite) await local.ExecuteAsync("INSERT INTO odd VALUES (350, 'k350', 0, 0, 'by hand', NULL, NULL)");
        var last = await production.SwitchSegmentAndWaitArchivedAsync();
        const uint segmentSize = 16 * 1024 * 1024;
        var first = WalSegmentName.Format(1, start.Value / segmentSize, segmentSize);
        var segments = production.ArchivedSegments()
            .Where(s => string.CompareOrdinal(Path.GetFileName(s), first) >= 0 && string.CompareOrdinal(Path.GetFileName(s), last) <= 0)
            .Select(WalSegmentSource.FromFile);
        List<RowChange> changes;
        using (var decoder = new ChangeDecoder(catalog, locations, segments, start))
            changes = decoder.Transactions().SelectMany(t => t.Changes).OfType<RowChange>().ToList();

        await using var connection = await local.Server.OpenAsync(LocalCluster.Database);
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            // A small round size: several rounds, each with deletes, updates and key moves through the stage.
            await new TableChangeApplier(table, onConflict, 37).ApplyAsync(connection, changes, CancellationToken.None);
            await transaction.CommitAsync();
        }

        Assert.Equal(await production.QueryScalarAsync<string>(Checksum), await local.QueryScalarAsync<string>(Checksum));
    }
}
