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
    private const string Missing = "000000010000000000000005";

    private static readonly TableName Items = new("public", "items");
    private static readonly TableName Notes = new("public", "notes");

    [Fact]
    public async Task A_problem_is_logged_once_per_table_until_a_batch_gets_past_its_file()
    {
        await using var local = await LocalCluster.StartAsync("problem-log");
        await local.ExecuteAsync("CREATE TABLE items (id int PRIMARY KEY); CREATE TABLE notes (id int PRIMARY KEY);");
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString);
        await new SchemaMigrator(dataSource).MigrateAsync();
        var added = await new TableRegistry(dataSource).AddAsync([Items, Notes], "test");
        Assert.All(added, c => Assert.Equal(TableListOutcome.Added, c.Outcome));
        await using var connection = await dataSource.OpenConnectionAsync();

        async Task<long> Failed(TableName table, string file)
        {
            await using var count = new NpgsqlCommand("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED' AND table_name = $1 AND archive_ref = $2", connection);
            count.Parameters.AddWithValue(table.ToString());
            count.Parameters.AddWithValue(file);
            return (long)(await count.ExecuteScalarAsync())!;
        }

        Task Report(string file) => ArchiveProblemLog.LogGapAsync(dataSource, file, "/archive", CancellationToken.None);

        Task Logged(TableName table, string status, string archiveRef) =>
            SyncState.LogAsync(connection, table, status, 1, default, archiveRef, null, 1, new Lsn(1), new Lsn(1), CancellationToken.None);

        await Report(Missing);
        // The segments ahead of the gap are still applied: batches before the missing file, then more cycles meeting the gap.
        await Logged(Items, "SUCCESS", "000000010000000000000003..000000010000000000000004");
        await Logged(Notes, "BOOTSTRAP", "base backup backup-001 + WAL to 000000010000000000000004");
        await Report(Missing);
        await Report(Missing);
        Assert.Equal(1L, await Failed(Items, Missing));
        Assert.Equal(1L, await Failed(Notes, Missing));
        var detail = await QueryText(connection, $"SELECT error_detail FROM data_sync_logs WHERE status = 'FAILED' AND table_name = '{Items}'");
        Assert.Contains($"table {Items}; archive file {Missing}; LSN 0/0: WAL segment {Missing} is missing from the archive /archive while later segments exist", detail);
        // The repeats are counted on the row.
        Assert.Equal("3", await QueryText(connection, $"SELECT occurrences::text FROM data_sync_logs WHERE status = 'FAILED' AND table_name = '{Notes}'"));

        // A different file is a different problem.
        await Report("00000001000000000000000A");
        Assert.Equal(1L, await Failed(Items, "00000001000000000000000A"));

        // Once items was applied past the file, the same file failing again is a new occurrence, for items only.
        await Logged(Items, "SUCCESS", "000000010000000000000005..000000010000000000000006");
        await Report(Missing);
        Assert.Equal(2L, await Failed(Items, Missing));
        Assert.Equal(1L, await Failed(Notes, Missing));
        Assert.Equal("1", await QueryText(connection,
            $"SELECT occurrences::text FROM data_sync_logs WHERE status = 'FAILED' AND table_name = '{Items}' AND archive_ref = '{Missing}' ORDER BY sync_time DESC LIMIT 1"));
        Assert.Equal("4", await QueryText(connection, $"SELECT occurrences::text FROM data_sync_logs WHERE status = 'FAILED' AND table_name = '{Notes}' AND archive_ref = '{Missing}'"));
    }

    private static async Task<string> QueryText(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
