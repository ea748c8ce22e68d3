using DataSync.Core.Configuration;
using Npgsql;

namespace DataSync.Core.Local;

/// <summary>The connection to the local (target) database the settings describe.</summary>
public static class LocalDatabase
{
    public static NpgsqlDataSource CreateDataSource(DataSyncSettings settings, string applicationName = "datasync") =>
        new NpgsqlDataSourceBuilder(ConnectionString(settings, applicationName)).Build();

    /// <summary>The connection string (it holds the password: never log it).</summary>
    public static string ConnectionString(DataSyncSettings settings, string applicationName = "datasync") =>
        new NpgsqlConnectionStringBuilder
        {
            Host = settings.PgHost,
            Port = settings.PgPort,
            Username = settings.PgUserName,
            Password = settings.PgPassword,
            Database = settings.PgDbName,
            ApplicationName = applicationName,
            Timeout = 15,
        }.ConnectionString;

    /// <summary>Names the database for messages: user, host, port and database, never the password.</summary>
    public static string Describe(DataSyncSettings settings) =>
        $"{settings.PgUserName}@{settings.PgHost}:{settings.PgPort}/{settings.PgDbName}";
}
