using DataSync.Core.Configuration;
using DataSync.Core.Schema;
using DataSync.Core.Tables;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Actors.Tests.Pipeline;

/// <summary>A local database with DataSync's schema and one table registered, and settings that reach it (no archive, no backups).</summary>
internal static class RegisteredTable
{
    /// <param name="table">The table's name as <c>add-tables</c> takes it; the caller has created the table.</param>
    public static async Task<(NpgsqlDataSource DataSource, DataSyncSettings Settings)> PrepareAsync(LocalCluster local, string table)
    {
        var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await new TableRegistry(dataSource).AddAsync(TableNameParser.ParseList([table]), "spec");
        var settings = new DataSyncSettings
        {
            PgPassword = local.Password, PgDbName = LocalCluster.Database, PgPort = local.Port, PgUserName = LocalCluster.User,
            ArchiveDir = "/none", BaseBackupDir = "/none", StateDir = Path.Combine(local.Root, "state"), SshKeyFile = "/none", SshKnownHosts = "/none",
        };
        return (dataSource, settings);
    }
}
