using System.Diagnostics;
using DataSync.TestRig;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// PostgreSQL's native logical replication as the baseline: a publication on the production cluster
/// and a subscription (<c>streaming = parallel</c>) on a second local 18.1 cluster with the same DDL.
/// </summary>
internal sealed class NativeSubscriber : IAsyncDisposable
{
    /// <summary>On production: true while a walsender serves the subscription's slot (named after the subscription).</summary>
    public const string SlotActive = "SELECT coalesce((SELECT active FROM pg_replication_slots WHERE slot_name = 'bench_sub'), false)";

    private readonly ProductionCluster _production;

    private NativeSubscriber(LocalCluster cluster, ProductionCluster production)
    {
        Cluster = cluster;
        _production = production;
    }

    public LocalCluster Cluster { get; }

    /// <summary>
    /// Holds the subscription back: its apply workers exit and the walsender with them; the slot keeps
    /// the WAL on production from its confirmed position on. Returns once both are gone.
    /// </summary>
    public async Task DisableAsync()
    {
        await Cluster.ExecuteAsync("ALTER SUBSCRIPTION bench_sub DISABLE");
        var clock = Stopwatch.StartNew();
        await Visibility.WaitAsync(Cluster.ConnectionString, "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_subscription WHERE subname = 'bench_sub' AND pid IS NOT NULL)",
            clock, TimeSpan.FromMinutes(1), "native apply workers exiting", () => Cluster.Server.TailOfLog());
        await Visibility.WaitAsync(_production.Server.ConnectionString(ProductionCluster.Database), $"SELECT NOT ({SlotActive})",
            clock, TimeSpan.FromMinutes(1), "native walsender exiting", () => _production.Server.TailOfLog());
    }

    /// <summary>Releases the subscription: the launcher starts its apply worker, which resumes from the slot.</summary>
    public Task EnableAsync() => Cluster.ExecuteAsync("ALTER SUBSCRIPTION bench_sub ENABLE");

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

            return new NativeSubscriber(cluster, production);
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
