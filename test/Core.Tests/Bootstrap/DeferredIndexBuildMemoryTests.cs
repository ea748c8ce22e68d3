using DataSync.Core.Bootstrap;
using DataSync.Core.Tables;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Bootstrap;

/// <summary>
/// The bootstrap's rebuild of the indexes it dropped gets at least 256 MB of maintenance_work_mem, so a large table's
/// key is sorted in memory: for the copy's transaction alone (the session has the server's value again after it), and
/// never less than the session already had.
/// </summary>
public sealed class DeferredIndexBuildMemoryTests
{
    private const string Show = "SELECT current_setting('maintenance_work_mem')";

    [Fact]
    public async Task The_rebuild_raises_maintenance_work_mem_for_its_transaction_only_and_never_lowers_it()
    {
        await using var local = await LocalCluster.StartAsync("deferred-index-memory");
        await local.ExecuteAsync("CREATE TABLE keyed (id bigint PRIMARY KEY, v text); INSERT INTO keyed SELECT g, 'v' || g FROM generate_series(1, 1000) g");
        var table = new TableName("public", "keyed");
        await using var connection = new NpgsqlConnection(local.ConnectionString);
        await connection.OpenAsync();

        Assert.Equal("64MB", await ScalarAsync(connection, Show));
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await ExecuteAsync(connection, "TRUNCATE keyed");
            var deferred = await DeferredIndexes.DropAsync(connection, table, CancellationToken.None);
            Assert.Equal(1, deferred.Count);
            Assert.Equal("64MB", await ScalarAsync(connection, Show));
            await ExecuteAsync(connection, "INSERT INTO keyed SELECT g, 'w' || g FROM generate_series(1, 500) g");
            await deferred.RebuildAsync(connection, CancellationToken.None);
            Assert.Equal("256MB", await ScalarAsync(connection, Show));
            await transaction.CommitAsync();
        }

        Assert.Equal("64MB", await ScalarAsync(connection, Show));
        Assert.Equal("keyed_pkey PRIMARY KEY (id)", await ScalarAsync(connection,
            "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'keyed'::regclass AND contype = 'p'"));
        Assert.Equal("500", await ScalarAsync(connection, "SELECT count(*)::text FROM keyed"));

        // A session (or server) given more keeps it.
        await ExecuteAsync(connection, "SET maintenance_work_mem = '1GB'");
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await ExecuteAsync(connection, "TRUNCATE keyed");
            var deferred = await DeferredIndexes.DropAsync(connection, table, CancellationToken.None);
            await deferred.RebuildAsync(connection, CancellationToken.None);
            Assert.Equal("1GB", await ScalarAsync(connection, Show));
            await transaction.CommitAsync();
        }
    }

    private static async Task<string> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
