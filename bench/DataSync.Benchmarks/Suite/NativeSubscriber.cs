using DataSync.TestRig;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// PostgreSQL's native logical replication as the baseline: a publication on the production cluster
/// and a subscription (<c>streaming = parallel</c>) on a second local 18.1 cluster with the same DDL.
/// </summary>
internal sealed class NativeSubscriber : IAsyncDisposable
{
    private NativeSubscriber(LocalCluster cluster) => Cluster = cluster;

    public LocalCluster Cluster { get; }

    public static async Task<NativeSubscriber> StartAsync(string name, ProductionCluster production, string ddl, IEnumerable<string> tables)
    {
        await production.ExecuteAsync($"CREATE PUBLICATION bench_pub FOR TABLE {string.Join(", ", tables.Select(t => $"\"{t}\""))}");
        var cluster = await LocalCluster.StartAsync(name);
        try
        {
            await cluster.ExecuteAsync(ddl);
            var connection = $"host=127.0.0.1 port={production.Server.Port} dbname={ProductionCluster.Database} user={production.Server.Options.Superuser}";
            await cluster.ExecuteAsync($"CREATE SUBSCRIPTION bench_sub CONNECTION '{connection}' PUBLICATION bench_pub WITH (streaming = parallel, copy_data = true)");
            // The initial table copies finish before anything is measured.
            var deadline = DateTime.UtcNow.AddMinutes(10);
            while (await cluster.QueryScalarAsync<long>("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'") > 0)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"the subscription's initial copy did not finish; log:\n{cluster.Server.TailOfLog()}");
                await Task.Delay(200);
            }

            return new NativeSubscriber(cluster);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Cluster.ExecuteAsync("DROP SUBSCRIPTION bench_sub");
        }
        catch (Npgsql.NpgsqlException)
        {
            // Production may be gone already; the cluster is thrown away anyway.
        }

        await Cluster.DisposeAsync();
    }
}
