using System.Security.Cryptography;
using DataSync.Core.Embedded;

namespace DataSync.TestRig;

/// <summary>
/// A throwaway "local" PostgreSQL 18.1 cluster: the sync target, with password (scram-sha-256)
/// authentication as a real installation would have. Stopped and removed on dispose.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public const string Database = "datasync_local";
    public const string User = "admin";

    private LocalCluster(string root, PostgresServer server, string password)
    {
        Root = root;
        Server = server;
        Password = password;
    }

    public string Root { get; }
    public PostgresServer Server { get; }
    public string Password { get; }
    public int Port => Server.Port;

    public string ConnectionString => Server.ConnectionString(Database);

    public static async Task<LocalCluster> StartAsync(string name)
    {
        var (binaries, account) = await TestPostgres.GetAsync().ConfigureAwait(false);
        var root = TestPostgres.NewClusterRoot("local-" + name);
        var password = "pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var server = new PostgresServer(new PostgresServerOptions
        {
            Binaries = binaries,
            Account = account,
            DataDirectory = Path.Combine(root, "data"),
            Port = PostgresServer.FindFreePort(),
            Superuser = User,
            SuperuserPassword = password,
            Settings = new Dictionary<string, string> { ["fsync"] = "off" },
        });
        var cluster = new LocalCluster(root, server, password);
        try
        {
            await server.InitAsync().ConfigureAwait(false);
            await server.StartAsync().ConfigureAwait(false);
            await server.ExecuteAsync($"CREATE DATABASE {Database}").ConfigureAwait(false);
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return cluster;
    }

    public Task ExecuteAsync(string sql) => Server.ExecuteAsync(sql, Database);

    public Task<T> QueryScalarAsync<T>(string sql) => Server.QueryScalarAsync<T>(sql, Database);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        TestFolders.Remove(Root);
    }
}
