using DataSync.Core.Embedded;
using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Cli;

/// <summary>A datasync.toml (mode 0600) for a test's local cluster and, when given, its production's archive and backups.</summary>
internal static class TestConfig
{
    public static async Task<string> WriteAsync(LocalCluster local, ProductionCluster? production = null, string extraLines = "", string fileName = "datasync.toml")
    {
        var (_, account) = await TestPostgres.GetAsync();
        var path = Path.Combine(local.Root, fileName);
        await File.WriteAllTextAsync(path, $"""
            PG_HOST = "127.0.0.1"
            PG_PORT = {local.Port}
            PG_USER_NAME = "{EmbeddedLocal.User}"
            PG_PASSWORD = "{local.Password}"
            PG_DB_NAME = "{EmbeddedLocal.Database}"
            PROD_DB_NAME = "{production?.DatabaseName ?? ProductionCluster.Database}"
            ARCHIVE_DIR = "{production?.ArchiveDirectory ?? local.Root + "/archive"}"
            BASE_BACKUP_DIR = "{production?.BackupDirectory ?? local.Root + "/backups"}"
            STATE_DIR = "{local.Root}/state"
            CONTROL_PORT = {PostgresServer.FindFreePort()}
            {(account.SwitchesUser ? $"PG_OS_USER = \"{account.UserName}\"" : "")}
            {extraLines}
            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}
