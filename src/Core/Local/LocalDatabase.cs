using DataSync.Core.Configuration;
using Npgsql;

namespace DataSync.Core.Local;

/// <summary>The connection to the local (target) database the settings describe.</summary>
public static class LocalDatabase
{
    public static NpgsqlDataSource CreateDataSource(DataSyncSettings settings, string applicationName = "datasync")
    {
        var builder = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder
        {
            Host = settings.PgHost,
            Port = settings.PgPort,
            Username = settings.PgUserName,
            Password = settings.PgPassword,
            Database = settings.PgDbName,
            ApplicationName = applicationName,
            Timeout = 15,
        }.ConnectionString);
        return builder.Build();
    }

    /// <summary>Names the database for messages: user, host, port and database, never the password.</summary>
    public static string Describe(DataSyncSettings settings) =>
        $"{settings.PgUserName}@{settings.PgHost}:{settings.PgPort}/{settings.PgDbName}";
}
