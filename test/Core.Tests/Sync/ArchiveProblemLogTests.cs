using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>An archive problem met on every cycle is one FAILED row per table and occurrence, whatever else gets logged meanwhile.</summary>
public sealed class ArchiveProblemLogTests
{
    private const uint SegmentSize = 16 * 1024 * 1024;
    private const string Missing = "000000010000000000000005"; // starts at 0/5000000

    private static readonly TableName Items = new("public", "items");
    private static readonly TableName Notes = new("public", "notes");

    [Fact]
    public async Task A_problem_is_logged_once_per_table_until_a_batch_gets_past_its_file()
    {
        await using var local = await LocalCluster.StartAsync("problem-log");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        await using var connection = await dataSource.OpenConnectionAsync();
        IReadOnlyList<TableSyncState> tables = [new(Items, TableSyncState.Syncing, new Lsn(0x4000000)), new(Notes, TableSyncState.Syncing, new Lsn(0x4000000))];

        async Task<long> Failed(TableName table, string file)
        {
            await using var count = new NpgsqlCommand("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED' AND table_name = $1 AND archive_ref = $2", connection);
            count.Parameters.AddWithValue(table.ToString());
            count.Parameters.AddWithValue(file);
            return (long)(await count.ExecuteScalarAsync())!;
        }

        Task Report(string file) => ArchiveProblemLog.LogOnceAsync(connection, tables, file, $"WAL segment {file} is missing", SegmentSize, CancellationToken.None);

        Task Success(TableName table, Lsn to) =>
            SyncState.LogAsync(connection, table, "SUCCESS", 1, default, "000000010000000000000004", null, 1, to, to, CancellationToken.None);

        await Report(Missing);
        // The segments ahead of the gap are still applied: a batch before the missing file, then more cycles meeting the gap.
        await Success(Items, new Lsn(0x4FFFF00));
        await Report(Missing);
        await Report(Missing);
        Assert.Equal(1L, await Failed(Items, Missing));
        Assert.Equal(1L, await Failed(Notes, Missing));
        var detail = await QueryText(connection, $"SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED' AND table_name = '{Items}'");
        Assert.Contains($"table {Items}; archive file {Missing}; LSN 0/4000000: WAL segment {Missing} is missing", detail);

        // A different file is a different problem.
        await Report("000000010000000000000009");
        Assert.Equal(1L, await Failed(Items, "000000010000000000000009"));

        // Once items was applied past the file, the same file failing again is a new occurrence, for items only.
        await Success(Items, new Lsn(0x5000010));
        await Report(Missing);
        Assert.Equal(2L, await Failed(Items, Missing));
        Assert.Equal(1L, await Failed(Notes, Missing));
    }

    private static async Task<string> QueryText(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
