using System.Security.Cryptography;
using DataSync.Core.Embedded;

namespace DataSync.Embedded;

/// <summary>
/// A throwaway "local" PostgreSQL 18.1 cluster: the sync target, with password (scram-sha-256)
/// authentication as a real installation would have. Disposing stops the server; the folder is the caller's.
/// </summary>
public class EmbeddedLocal : IAsyncDisposable
{
    public const string Database = "datasync_local";
    public const string User = "admin";

    protected EmbeddedLocal(string root, PostgresServer server, string password)
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

    public static Task<EmbeddedLocal> StartAsync(PostgresBinaries binaries, ServerAccount account, string root) =>
        StartAsync(binaries, account, root, (r, s, p) => new EmbeddedLocal(r, s, p));

    protected static async Task<T> StartAsync<T>(PostgresBinaries binaries, ServerAccount account, string root, Func<string, PostgresServer, string, T> create)
        where T : EmbeddedLocal
    {
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
        var cluster = create(root, server, password);
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

    public virtual async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }
}
