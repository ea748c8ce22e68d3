using Npgsql;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;

namespace DataSync.Core.Tests.Sync;

/// <summary>
/// A table batch keeps its local connection between batches; a session the server ended meanwhile (a restart of the
/// local server, an administrator's pg_terminate_backend) must not fail the next batch once the server answers again.
/// </summary>
public sealed class TableBatchConnectionTests
{
    private const uint SegmentSize = 16 * 1024 * 1024;

    [Fact]
    public async Task A_batch_after_the_server_ended_the_idle_session_opens_a_new_one_and_commits()
    {
        await using var local = await LocalCluster.StartAsync("batch-session");
        await local.ExecuteAsync("CREATE TABLE \"Kept Rows\" (id int PRIMARY KEY)");
        var table = new TableName("public", "Kept Rows");
        await using var dataSource = await EngineSetup.SyncingAsync(local, table, new Lsn(0x100));
        var settings = EngineSetup.LocalSettings(local);
        await using var batch = new TableBatch(dataSource, settings, table, SegmentSize);

        await batch.BeginAsync(new Lsn(0x100), 1, CancellationToken.None);
        Assert.IsType<TableBatchOutcome.Committed>(await batch.CommitAsync(new Lsn(0x200), CancellationToken.None));
        var before = await local.QueryScalarAsync<int>("SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        Assert.True(before >= 1);

        // Every other session of the database ends, the batch's own among them, as a server restart would end it.
        await local.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()");
        await Task.Delay(TableBatch.CheckedAfterIdle + TimeSpan.FromMilliseconds(200));

        await batch.BeginAsync(new Lsn(0x200), 1, CancellationToken.None);
        var outcome = await batch.CommitAsync(new Lsn(0x300), CancellationToken.None);
        Assert.Equal(new Lsn(0x300), Assert.IsType<TableBatchOutcome.Committed>(outcome).Checkpoint);
        Assert.Equal("0/300", await local.QueryScalarAsync<string>("SELECT checkpoint_lsn::text FROM datasync_table_state"));
    }

    [Fact]
    public async Task A_truncate_waits_out_a_local_lock_longer_than_the_connection_s_command_timeout()
    {
        await using var local = await LocalCluster.StartAsync("batch-lock-wait");
        await local.ExecuteAsync("CREATE TABLE \"Locked Rows\" (id int PRIMARY KEY); INSERT INTO \"Locked Rows\" SELECT generate_series(1, 1000)");
        var table = new TableName("public", "Locked Rows");
        await using var syncing = await EngineSetup.SyncingAsync(local, table, new Lsn(0x100));
        // Every statement of this source is cut off after 1 s, unless the apply says otherwise.
        await using var dataSource = NpgsqlDataSource.Create(local.ConnectionString + ";Command Timeout=1");
        await using var batch = new TableBatch(dataSource, EngineSetup.LocalSettings(local), table, SegmentSize);

        // A local reader holds the table for 3 s: a TRUNCATE must wait for its lock.
        var (reader, release) = await HoldAsync(syncing, table, TimeSpan.FromSeconds(3));
        await using var _ = reader;

        var waited = System.Diagnostics.Stopwatch.StartNew();
        await batch.BeginAsync(new Lsn(0x100), 1, CancellationToken.None);
        Assert.True(await batch.TruncateAsync(new Lsn(0x200), CancellationToken.None));
        var outcome = await batch.CommitAsync(new Lsn(0x200), CancellationToken.None);
        waited.Stop();
        await release;

        Assert.Equal(new Lsn(0x200), Assert.IsType<TableBatchOutcome.Committed>(outcome).Checkpoint);
        Assert.True(waited.Elapsed > TimeSpan.FromSeconds(2), $"the TRUNCATE did not wait for the lock ({waited.Elapsed})");
        Assert.Equal(0, await local.QueryScalarAsync<int>("SELECT count(*)::int FROM \"Locked Rows\""));
        Assert.Equal(1000, await local.QueryScalarAsync<int>("SELECT rows_truncated::int FROM data_sync_logs WHERE status = 'SUCCESS'"));
    }

    [Fact]
    public async Task A_batch_that_waits_for_a_local_lock_names_the_session_that_holds_it()
    {
        await using var local = await LocalCluster.StartAsync("batch-lock-report");
        await local.ExecuteAsync("CREATE TABLE \"Held\"\"Rows\" (id int PRIMARY KEY); INSERT INTO \"Held\"\"Rows\" SELECT generate_series(1, 10)");
        var table = new TableName("public", "Held\"Rows");
        await using var syncing = await EngineSetup.SyncingAsync(local, table, new Lsn(0x100));
        var reports = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var batch = new TableBatch(syncing, EngineSetup.LocalSettings(local), table, SegmentSize, reports.Enqueue)
        {
            LockWaitReportedAfter = TimeSpan.FromMilliseconds(300),
        };

        // A batch without a wait says nothing, however long it stays open.
        await batch.BeginAsync(new Lsn(0x100), 1, CancellationToken.None);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await batch.CommitAsync(new Lsn(0x180), CancellationToken.None);
        Assert.Empty(reports);

        // A local session, named by its application, holds the table for 3 s: the TRUNCATE waits, and is reported with it.
        await using var hand = NpgsqlDataSource.Create(local.ConnectionString + ";Application Name=hand edit");
        var (reader, release) = await HoldAsync(hand, table, TimeSpan.FromSeconds(3));
        await using var _ = reader;

        await batch.BeginAsync(new Lsn(0x180), 1, CancellationToken.None);
        Assert.True(await batch.TruncateAsync(new Lsn(0x200), CancellationToken.None));
        Assert.IsType<TableBatchOutcome.Committed>(await batch.CommitAsync(new Lsn(0x200), CancellationToken.None));
        await release;

        var report = Assert.IsType<string>(reports.FirstOrDefault());
        Assert.Contains("table public.\"Held\"\"Rows\"", report);
        Assert.Contains($"pid {reader.ProcessID} ", report);
        Assert.Contains("application \"hand edit\"", report);
        Assert.Contains("idle in transaction", report);
        Assert.DoesNotContain("SELECT count", report);
        // Reported after one interval of waiting, then after two, four and eight: not at every one of the ten looks in 3 s.
        Assert.InRange(reports.Count, 2, 5);
    }

    /// <summary>
    /// A local session that reads <paramref name="table"/> in an open transaction, so that a TRUNCATE waits for its lock,
    /// and commits after <paramref name="duration"/> (the returned task).
    /// </summary>
    private static async Task<(NpgsqlConnection Reader, Task Released)> HoldAsync(NpgsqlDataSource source, TableName table, TimeSpan duration)
    {
        var reader = await source.OpenConnectionAsync();
        await using (var read = new NpgsqlCommand($"BEGIN; SELECT count(*) FROM {table.Quoted}", reader)) await read.ExecuteNonQueryAsync();
        var released = Task.Run(async () =>
        {
            await Task.Delay(duration);
            await using var commit = new NpgsqlCommand("COMMIT", reader);
            await commit.ExecuteNonQueryAsync();
        });
        return (reader, released);
    }
}
