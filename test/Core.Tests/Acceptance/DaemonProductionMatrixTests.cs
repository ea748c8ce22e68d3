using DataSync.Embedded;
using DataSync.Core.Tests.Cli;
using DataSync.TestRig;
using static DataSync.Core.Tests.Acceptance.SyncedTables;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>
/// Productions set up the ways operators set them up, none like the rest of the suite's, each bootstrapped
/// and synced through the daemon while production writes: a superuser that is not <c>postgres</c>, a
/// database named unlike the local one (with a space in it), WAL segments of 64 MiB and of 1 MiB, data
/// checksums off, a table in a tablespace (named with a space, at a path with one), a gzip'd tar backup with one tar per tablespace and a
/// backup_manifest, a backup taken on a standby, and a production that stays idle after its backup.
/// </summary>
public sealed class DaemonProductionMatrixTests
{
    public enum Backup
    {
        /// <summary>base.tar.gz, one &lt;oid&gt;.tar.gz per tablespace, tablespace_map, backup_manifest; nothing archived after it until the daemon runs.</summary>
        TarWithTablespaceIdleAfter,

        /// <summary>Plain format, taken with the low-level API on a standby of production.</summary>
        PlainFromStandby,
    }

    private static readonly Table[] Tables = [new("orders", "id"), new("spaced", "id")];

    [Theory]
    [InlineData("admin", "Sales Analytics", 64, false, Backup.TarWithTablespaceIdleAfter)]
    [InlineData("dba", "erp", 1, true, Backup.PlainFromStandby)]
    public async Task Bootstraps_and_syncs_a_production_set_up_unlike_ours(string superuser, string database, int segmentMb, bool checksums, Backup backup)
    {
        var name = $"matrix-{segmentMb}-{backup}".ToLowerInvariant();
        var shape = new ProductionShape { Superuser = superuser, Database = database, WalSegmentSizeMb = segmentMb, DataChecksums = checksums };
        await using var production = await ProductionCluster.StartAsync(name, shape: shape);
        await using var local = await LocalCluster.StartAsync(name);
        Assert.Equal(superuser, await production.QueryScalarAsync<string>("SELECT rolname::text FROM pg_authid WHERE oid = 10"));

        // The tar backup carries the tablespace as a tar of its own; the standby (a copy of a plain backup) keeps to pg_default.
        var tablespace = "";
        if (backup == Backup.TarWithTablespaceIdleAfter)
        {
            var location = Path.Combine(production.Root, "tablespace location");
            Directory.CreateDirectory(location);
            var (_, account) = await TestPostgres.GetAsync();
            await account.TakeOwnershipAsync(location);
            await production.ExecuteAsync($"CREATE TABLESPACE \"cold storage\" LOCATION '{location}'");
            tablespace = " TABLESPACE \"cold storage\"";
        }

        const string ddl = """
            CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2), doc jsonb);
            CREATE TABLE spaced (id bigint PRIMARY KEY, payload text, n int)
            """;
        await production.ExecuteAsync(ddl + tablespace + ";" + """
            INSERT INTO orders SELECT g, 'c' || g % 97, g * 1.5, jsonb_build_object('g', g) FROM generate_series(1, 3000) g;
            INSERT INTO spaced SELECT g, repeat('p', g % 300), g FROM generate_series(1, 2000) g;
            """);

        StandbyCluster? standby = null;
        try
        {
            if (backup == Backup.TarWithTablespaceIdleAfter)
            {
                // pg_backup_stop waits until the backup's last segment is archived; production then stays idle.
                await production.TakeBaseBackupAsync(BaseBackupFormat.Tar, gzip: true, manifest: true);
            }
            else
            {
                var seed = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
                standby = await StandbyCluster.StartAsync(production, seed);
                Directory.Delete(seed.Directory, recursive: true);
                await production.ExecuteAsync("UPDATE orders SET amount = amount + 1 WHERE id <= 300; CHECKPOINT");
                await standby.WaitReplayedAsync(await production.QueryScalarAsync<string>("SELECT pg_current_wal_lsn()::text"));
                await LowLevelBaseBackup.TakeAsync(standby.Server, Path.Combine(production.BackupDirectory, "from-standby"), BaseBackupFormat.Plain);
                await production.SwitchSegmentAndWaitArchivedAsync();
            }

            await local.ExecuteAsync(ddl);
            var config = await TestConfig.WriteAsync(local, production, "DATA_SYNC_FREQ = 1");
            Assert.Contains($"PROD_DB_NAME = \"{database}\"", await File.ReadAllTextAsync(config));
            Assert.Equal(0, (await CliRunner.RunAsync(config, "add-tables", "orders, spaced")).ExitCode);
            await using var daemon = await DaemonRun.StartAsync(config, local);

            // Production writes while the daemon bootstraps and streams: inserts, updates, deletes, a rolled-back transaction.
            for (var round = 0; round < 4; round++)
            {
                var from = 10_000 + round * 500;
                await production.ExecuteAsync($"INSERT INTO orders SELECT g, 'late', g, NULL FROM generate_series({from}, {from + 499}) g");
                await production.ExecuteAsync($"UPDATE orders SET amount = amount * 2, doc = doc || '{{\"round\": {round}}}' WHERE id % 7 = {round}");
                await production.ExecuteAsync($"DELETE FROM spaced WHERE id % 11 = {round}");
                await production.ExecuteAsync($"UPDATE spaced SET payload = repeat('u', 2500 + {round}) WHERE id % 13 = {round}");
                await production.ExecuteAsync("BEGIN; DELETE FROM orders; ROLLBACK");
                await production.SwitchSegmentAndWaitArchivedAsync();
            }

            await WaitIdenticalAsync(production, local, Tables, daemon, TimeSpan.FromSeconds(180));
            Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
            Assert.Equal(2L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'BOOTSTRAP'"));
            await daemon.StopAsync();
        }
        finally
        {
            if (standby is not null) await standby.DisposeAsync();
        }
    }
}
