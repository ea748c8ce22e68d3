using DataSync.TestRig.Workloads;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// Real 18.1 WAL for the parallel-framing tests, made once for the class: the differential test's
/// random workload from two sessions (TOASTed values up to 1 MB, a transaction larger than a segment,
/// savepoints, aborts, 2PC) with, meanwhile, logical messages of 3 MB and one of 40 MB (records
/// larger than a page that cross segment boundaries, one of them longer than a whole segment). The
/// servers are stopped once the segments are copied here with the catalog and the start LSN.
/// </summary>
public sealed class FramedRealWal : IAsyncLifetime
{
    public const int BigMessages = 6;
    public const int BigMessageBytes = 3_000_000;
    public const int HugeMessageBytes = 40_000_000;

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"datasync-framing-tests-{Environment.UserName}", Guid.NewGuid().ToString("N"));
    public IReadOnlyList<string> Segments { get; private set; } = [];
    public CatalogSnapshot Catalog { get; private set; } = null!;
    public CatalogLocations Locations { get; private set; } = null!;
    public Lsn Start { get; private set; }

    public IReadOnlyList<WalSegmentSource> Sources() => Segments.Select(WalSegmentSource.FromFile).ToList();

    public ChangeDecoder SequentialDecoder(IEnumerable<WalSegmentSource> sources) => new(Catalog, Locations, sources, Start);

    public async Task InitializeAsync()
    {
        await using var rig = await ChangeRig.StartAsync("framing", RandomWorkload.Ddl, RandomWorkload.Setup, ["public.items", "public.events", "public.pairs"]);
        await rig.CaptureStartAsync();
        var runs = new List<Task>();
        for (var s = 0; s < 2; s++)
        {
            var connection = await rig.Production.Server.OpenAsync(DataSync.TestRig.ProductionCluster.Database);
            var workload = new RandomWorkload(connection, s, 20251126 + s);
            var session = s;
            runs.Add(Task.Run(async () =>
            {
                await using (connection) await workload.RunAsync(80, i => session == 0 && i == 40 ? workload.BigTransactionAsync() : Task.CompletedTask);
            }));
        }

        runs.Add(Task.Run(async () =>
        {
            await using var connection = await rig.Production.Server.OpenAsync(DataSync.TestRig.ProductionCluster.Database);
            for (var i = 0; i < BigMessages; i++) await EmitAsync(connection, BigMessageBytes);
            await EmitAsync(connection, HugeMessageBytes);
        }));
        await Task.WhenAll(runs);
        await rig.ArchiveAsync();

        System.IO.Directory.CreateDirectory(Directory);
        Segments = rig.Segments.Select(s =>
        {
            var copy = Path.Combine(Directory, Path.GetFileName(s));
            File.Copy(s, copy);
            return copy;
        }).ToList();
        (Catalog, Locations, Start) = (rig.Catalog, rig.Locations, rig.Start);
    }

    private static async Task EmitAsync(NpgsqlConnection connection, int bytes)
    {
        await using var command = new NpgsqlCommand("SELECT pg_logical_emit_message(false, 'framing', repeat('m', $1))", connection);
        command.Parameters.AddWithValue(bytes);
        await command.ExecuteScalarAsync();
    }

    public Task DisposeAsync()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        return Task.CompletedTask;
    }
}
