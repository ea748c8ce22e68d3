using DataSync.Core.Embedded;
using DataSync.Embedded;

namespace DataSync.TestRig;

/// <summary>
/// A test's local (target) cluster with password authentication (see <see cref="EmbeddedLocal"/>):
/// in its own folder, on a free port, stopped and removed on dispose.
/// </summary>
public sealed class LocalCluster : EmbeddedLocal
{
    private LocalCluster(string root, PostgresServer server, string password) : base(root, server, password)
    {
    }

    public static async Task<LocalCluster> StartAsync(string name)
    {
        var (binaries, account) = await TestPostgres.GetAsync().ConfigureAwait(false);
        var root = TestPostgres.NewClusterRoot("local-" + name);
        return await StartAsync(binaries, account, root, (r, s, p) => new LocalCluster(r, s, p)).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        TestFolders.Remove(Root);
    }
}
