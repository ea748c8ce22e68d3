using DataSync.Core.Archive;
using DataSync.Core.Configuration;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>What the engine tests share: settings pointing at the test clusters, a migrated local database with its tables listed, an engine over them.</summary>
internal static class EngineSetup
{
    public static DataSyncSettings Settings(LocalCluster local, ProductionCluster production) => new()
    {
        PgPassword = local.Password, PgDbName = LocalCluster.Database, ProdDbName = production.DatabaseName,
        ArchiveDir = production.ArchiveDirectory, BaseBackupDir = production.BackupDirectory, StateDir = Path.Combine(local.Root, "state"),
        SshKeyFile = "/none", SshKnownHosts = "/none", PgPort = local.Port, PgUserName = LocalCluster.User,
    };

    /// <summary>Settings for work on the local side alone (a table batch, a router): the archive and backup folders are never read.</summary>
    public static DataSyncSettings LocalSettings(LocalCluster local) => new()
    {
        PgPassword = local.Password, PgDbName = LocalCluster.Database, ArchiveDir = "/a", BaseBackupDir = "/b", StateDir = "/s",
        SshKeyFile = "/k", SshKnownHosts = "/h", PgPort = local.Port, PgUserName = LocalCluster.User,
    };

    /// <summary>Migrates the local schema and sets <paramref name="table"/> syncing from <paramref name="checkpoint"/>, as a bootstrap leaves it.</summary>
    public static async Task<NpgsqlDataSource> SyncingAsync(LocalCluster local, TableName table, Wal.Lsn checkpoint)
    {
        var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await using var connection = await dataSource.OpenConnectionAsync();
        await SyncState.SetTableAsync(connection, table, TableState.Syncing, checkpoint, null, 0, CancellationToken.None);
        return dataSource;
    }

    /// <summary>Migrates the local schema and puts <paramref name="tables"/> on the sync list.</summary>
    public static async Task<NpgsqlDataSource> LocalAsync(LocalCluster local, string tables)
    {
        var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        var added = await new TableRegistry(dataSource).AddAsync(TableNameParser.ParseList([tables]), "test");
        Assert.All(added, c => Assert.Equal(TableListOutcome.Added, c.Outcome));
        return dataSource;
    }

    public static async Task<SyncEngine> EngineAsync(
        DataSyncSettings settings, NpgsqlDataSource dataSource, IProgress<string>? progress = null, long memoryLimitBytes = 64L * 1024 * 1024, int? bootstrapParallelism = null)
    {
        var (binaries, account) = await TestPostgres.GetAsync();
        var options = new SyncOptions
        {
            Settings = settings, Archive = new LocalArchiveSource(settings.ArchiveDir), Binaries = binaries, Account = account,
            MemoryLimitBytes = memoryLimitBytes, Progress = progress,
        };
        return new SyncEngine(bootstrapParallelism is { } lanes ? options with { BootstrapParallelism = lanes } : options, dataSource);
    }
}
