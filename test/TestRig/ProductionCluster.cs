using DataSync.Core.Embedded;
using DataSync.Embedded;

namespace DataSync.TestRig;

/// <summary>
/// A test's production cluster (see <see cref="EmbeddedProduction"/>): in its own folder named after
/// the test, on a free port, stopped and removed on dispose.
/// </summary>
public sealed class ProductionCluster : EmbeddedProduction
{
    private ProductionCluster(string root, PostgresServer server, ProductionShape shape) : base(root, server, shape)
    {
    }

    /// <param name="name">Names the cluster's folder, so a left-over one tells which test made it.</param>
    /// <param name="walCompression">PostgreSQL's wal_compression: off or pglz (lz4 and zstd are not in the test build).</param>
    /// <param name="shape">How initdb sets the cluster up (superuser, database, segment size, checksums, encoding); the suite's usual cluster when null.</param>
    public static async Task<ProductionCluster> StartAsync(
        string name, string walCompression = "off", IReadOnlyDictionary<string, string>? extraSettings = null, ProductionShape? shape = null)
    {
        var (binaries, account) = await TestPostgres.GetAsync().ConfigureAwait(false);
        var root = TestPostgres.NewClusterRoot("prod-" + name);
        return await StartAsync(binaries, account, root, walCompression, extraSettings, shape ?? ProductionShape.Default,
            (r, s, sh) => new ProductionCluster(r, s, sh)).ConfigureAwait(false);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync().ConfigureAwait(false);
        TestFolders.Remove(Root);
    }
}
