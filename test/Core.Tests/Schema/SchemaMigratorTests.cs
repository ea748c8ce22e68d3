using DataSync.Core.Schema;
using DataSync.TestRig;
using Npgsql;

namespace DataSync.Core.Tests.Schema;

public sealed class SchemaMigratorTests
{
    [Fact]
    public async Task Creates_the_spec_tables_and_is_idempotent()
    {
        await using var local = await LocalCluster.StartAsync(nameof(Creates_the_spec_tables_and_is_idempotent));
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        var migrator = new SchemaMigrator(dataSource);

        Assert.Equal(0, await migrator.CurrentVersionAsync());
        var first = await migrator.MigrateAsync();
        Assert.Equal(Migrations.All.Select(m => m.Version), first.Select(m => m.Version));
        Assert.Empty(await migrator.MigrateAsync());
        Assert.Equal(Migrations.Latest, await migrator.CurrentVersionAsync());

        // The spec's columns, with the spec's types and defaults.
        var columns = await ColumnsAsync(dataSource, "data_sync_logs");
        Assert.Equal("uuid", columns["id"]);
        Assert.Equal("text", columns["table_name"]);
        Assert.Equal("integer", columns["rows_synced"]);
        Assert.Equal("timestamp with time zone", columns["sync_time"]);
        Assert.Equal("pg_lsn", columns["lsn_from"]);
        Assert.Equal("bigint", columns["duration_ms"]);
        Assert.Contains("period_type", (await ColumnsAsync(dataSource, "data_sync_metrics")).Keys);
        Assert.Contains("creator", (await ColumnsAsync(dataSource, "tables_to_sync")).Keys);

        await using var command = dataSource.CreateCommand(
            "INSERT INTO data_sync_logs (table_name, status) VALUES ('public.t', 'SUCCESS') RETURNING id IS NOT NULL AND rows_synced = 0 AND sync_time IS NOT NULL");
        Assert.True((bool)(await command.ExecuteScalarAsync())!);
        await using var unique = dataSource.CreateCommand(
            "INSERT INTO data_sync_metrics (table_name, period_start, period_end, period_type) VALUES ('t', '2026-01-01', '2026-01-02', 'FREQ'), ('t', '2026-01-01', '2026-01-02', 'FREQ')");
        var duplicate = await Assert.ThrowsAsync<PostgresException>(() => unique.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
    }

    [Fact]
    public async Task Upgrades_an_older_schema_keeping_its_rows()
    {
        await using var local = await LocalCluster.StartAsync(nameof(Upgrades_an_older_schema_keeping_its_rows));
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        var migrator = new SchemaMigrator(dataSource);
        await migrator.MigrateAsync(targetVersion: 1);
        Assert.Equal(1, await migrator.CurrentVersionAsync());
        await using (var old = dataSource.CreateCommand(
            "INSERT INTO data_sync_logs (table_name, status, rows_synced) VALUES ('public.a', 'SUCCESS', 7); INSERT INTO tables_to_sync (table_name) VALUES ('public.a')"))
            await old.ExecuteNonQueryAsync();
        Assert.DoesNotContain("lsn_to", (await ColumnsAsync(dataSource, "data_sync_logs")).Keys);

        var applied = await migrator.MigrateAsync();

        Assert.Equal(Migrations.All.Skip(1).Select(m => m.Version), applied.Select(m => m.Version));
        await using var check = dataSource.CreateCommand("SELECT rows_synced, rows_inserted FROM data_sync_logs WHERE table_name = 'public.a'");
        await using var reader = await check.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((7, 0L), (reader.GetInt32(0), reader.GetInt64(1)));
    }

    [Fact]
    public async Task Concurrent_migrators_apply_each_step_once()
    {
        await using var local = await LocalCluster.StartAsync(nameof(Concurrent_migrators_apply_each_step_once));
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => new SchemaMigrator(dataSource).MigrateAsync()));
        Assert.Equal(Migrations.All.Count, results.Sum(r => r.Count));
    }

    private static async Task<Dictionary<string, string>> ColumnsAsync(NpgsqlDataSource dataSource, string table)
    {
        await using var command = dataSource.CreateCommand("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1");
        command.Parameters.AddWithValue(table);
        var result = new Dictionary<string, string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) result[reader.GetString(0)] = reader.GetString(1);
        return result;
    }
}
