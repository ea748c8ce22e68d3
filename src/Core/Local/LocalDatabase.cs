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

    /// <summary>True for the errors that mean the local database cannot be reached or refuses us (as opposed to a bug).</summary>
    public static bool IsUnreachable(Exception error) =>
        error is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException;

    /// <summary>
    /// Why the local database could not be used, naming the configuration key to check where the server's
    /// answer points at one (never the password itself).
    /// </summary>
    public static string Unreachable(Exception error, DataSyncSettings settings) => error switch
    {
        PostgresException { SqlState: PostgresErrorCodes.InvalidPassword } =>
            $"the local database {Describe(settings)} refused the password of PG_USER_NAME \"{settings.PgUserName}\": check PG_PASSWORD in the configuration",
        PostgresException { SqlState: PostgresErrorCodes.InvalidAuthorizationSpecification } e =>
            $"the local database {Describe(settings)} refused PG_USER_NAME \"{settings.PgUserName}\" ({e.MessageText}): check PG_USER_NAME and the server's pg_hba.conf",
        PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } =>
            $"the local server has no database \"{settings.PgDbName}\" (PG_DB_NAME): create it or correct PG_DB_NAME",
        _ => $"the local database {Describe(settings)} is unreachable: {error.GetBaseException().Message}",
    };

    /// <summary>Names the database for messages: user, host, port and database, never the password.</summary>
    public static string Describe(DataSyncSettings settings) =>
        $"{settings.PgUserName}@{settings.PgHost}:{settings.PgPort}/{settings.PgDbName}";
}
