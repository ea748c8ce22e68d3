using DataSync.TestRig;
using DataSync.TestRig.Workloads;
using Npgsql;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// A production cluster holding <see cref="EveryTypeTable"/> and its rows. Records the WAL range the
/// inserts were written in.
/// </summary>
public sealed class AllTypesServerFixture : IAsyncLifetime
{
    public const string Table = EveryTypeTable.Name;

    public const string Ddl = EveryTypeTable.Ddl;

    /// <summary>The rows described at <see cref="EveryTypeTable.Data"/>.</summary>
    public const string Data = EveryTypeTable.Data;

    private ProductionCluster? _cluster;

    public ProductionCluster Cluster => _cluster ?? throw new InvalidOperationException("fixture not started");

    /// <summary>WAL insert position before and after <see cref="Data"/> was written.</summary>
    public string DataStartLsn { get; private set; } = "";
    public string DataEndLsn { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _cluster = await ProductionCluster.StartAsync("wal-values");
        await using var connection = await OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, "CREATE EXTENSION pageinspect; CREATE EXTENSION pg_walinspect;");
        await ServerTupleSource.ExecuteAsync(connection, Ddl);
        DataStartLsn = await ServerTupleSource.CurrentLsnAsync(connection);
        await ServerTupleSource.ExecuteAsync(connection, Data);
        DataEndLsn = await ServerTupleSource.CurrentLsnAsync(connection);
    }

    public Task<NpgsqlConnection> OpenAsync() => Cluster.Server.OpenAsync(ProductionCluster.Database);

    public async Task DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
