using System.Text.RegularExpressions;
using DataSync.Core.Archive;
using DataSync.Core.Sync;
using DataSync.Embedded;
using DataSync.TestRig;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>
/// The restore a bootstrap copies from pauses just after a record; the server reports where that record ends, and the
/// next record starts exactly there. A commit starting at that point was not replayed, so the copy lacks it and the
/// stream must apply it: the table's checkpoint after the copy may not count it as applied (a table applies the commits
/// that start after its checkpoint).
/// </summary>
public sealed class BootstrapPausePointTests
{
    private const uint SegmentSize = 16 * 1024 * 1024;

    private static string Checksum(string table) => $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY id), '')) FROM {table} t";

    [Fact]
    public async Task A_commit_that_starts_where_the_restore_paused_is_still_applied_after_the_copy()
    {
        await using var production = await ProductionCluster.StartAsync("pausepoint");
        await using var local = await LocalCluster.StartAsync("pausepoint");
        const string ddl = "CREATE TABLE items (id bigint PRIMARY KEY, label text NOT NULL)";
        await production.ExecuteAsync("CREATE EXTENSION pg_walinspect; " + ddl);
        await production.ExecuteAsync("INSERT INTO items SELECT g, 'before ' || g FROM generate_series(1, 100) g");
        var backup = await production.TakeBaseBackupAsync(BaseBackupFormat.Plain);
        await production.SwitchSegmentAndWaitArchivedAsync();

        // A segment that opens with a non-transactional message followed at once by a commit of the table. A background
        // record (a checkpoint's, the standby snapshot's) can come between; then it is made again.
        (Lsn Message, Lsn Commit)? layout = null;
        for (var attempt = 1; attempt <= 5 && layout is null; attempt++)
        {
            await using var writer = await production.Server.OpenAsync(production.DatabaseName);
            await using var transaction = await writer.BeginTransactionAsync();
            await using (var insert = new NpgsqlCommand($"INSERT INTO items VALUES ({1000 + attempt}, 'committed where the restore paused')", writer, transaction))
                await insert.ExecuteNonQueryAsync();
            await using var xidCommand = new NpgsqlCommand("SELECT pg_current_xact_id()::text", writer, transaction);
            var xid = (string)(await xidCommand.ExecuteScalarAsync())!;
            await production.ExecuteAsync("SELECT pg_switch_wal()");
            var segmentStart = await production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text");
            await production.ExecuteAsync("SELECT pg_logical_emit_message(false, 'datasync-test', 'the first record of the segment')");
            await transaction.CommitAsync();
            await production.SwitchSegmentAndWaitArchivedAsync();
            layout = await MessageThenCommitAsync(production, segmentStart, xid);
        }

        Assert.NotNull(layout);
        var (message, commit) = layout.Value;

        // A restore paused right after the message reports the commit's start as its position: the copy's checkpoint must
        // lie before the commit, so the stream applies it, and at or after the message, so the stream does not apply that again.
        var spool = new WalSpool(Path.Combine(local.Root, "spool-copy"), SegmentSize);
        foreach (var segment in production.ArchivedSegments()) File.Copy(segment, spool.PathOf(Path.GetFileName(segment)));
        var atCommit = TableBootstrapper.CheckpointOfCopy(spool, SegmentSize, commit);
        Assert.Equal(message, atCommit);
        Assert.True(commit > atCommit);
        var commitEnd = Lsn.Parse(await production.QueryScalarAsync<string>(
            $"SELECT end_lsn::text FROM pg_get_wal_records_info('{commit}', pg_current_wal_flush_lsn()) ORDER BY start_lsn LIMIT 1"));
        Assert.Equal(commit, TableBootstrapper.CheckpointOfCopy(spool, SegmentSize, commitEnd));

        // Through a whole bootstrap (wherever its restore happens to pause): the checkpoint is the start of the last record
        // replayed, and the table ends identical.
        await local.ExecuteAsync(ddl);
        await using var dataSource = await EngineSetup.LocalAsync(local, "items");
        var progress = new ProgressRecorder();
        await using var engine = await EngineSetup.EngineAsync(EngineSetup.Settings(local, production), dataSource, progress);
        var first = await engine.RunCycleAsync(CancellationToken.None);
        Assert.True(first.TablesBootstrapped.SequenceEqual(["public.items"]), string.Join("\n", progress.Lines));
        var position = Regex.Match(string.Join("\n", progress.Lines), @"rows copied as of ([0-9A-F]+/[0-9A-F]+)").Groups[1].Value;
        var lastReplayed = await production.QueryScalarAsync<string>(
            $"SELECT max(start_lsn)::text FROM pg_get_wal_records_info('{backup.StartLsn}', '{position}') WHERE start_lsn < '{position}'");
        Assert.Equal(lastReplayed, await local.QueryScalarAsync<string>("SELECT checkpoint_lsn::text FROM datasync_table_state"));
        await engine.RunCycleAsync(CancellationToken.None);

        Assert.Equal(await production.QueryScalarAsync<string>(Checksum("items")), await local.QueryScalarAsync<string>(Checksum("items")));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs WHERE status = 'FAILED'"));
    }

    /// <summary>
    /// The start of the test's message and of the commit of <paramref name="xid"/> when they are the first two records from
    /// <paramref name="from"/> and the commit starts where the message ends; else null.
    /// </summary>
    private static async Task<(Lsn, Lsn)?> MessageThenCommitAsync(ProductionCluster production, string from, string xid)
    {
        var records = await production.QueryScalarAsync<string>($"""
            SELECT string_agg(resource_manager || ' ' || record_type || ' ' || xid || ' ' || start_lsn || ' ' || end_lsn, E'\n' ORDER BY start_lsn)
            FROM (SELECT * FROM pg_get_wal_records_info('{from}', pg_current_wal_flush_lsn()) ORDER BY start_lsn LIMIT 2) r
            """);
        var lines = records.Split('\n').Select(l => l.Split(' ')).ToList();
        if (lines.Count < 2 || lines[0][0] != "LogicalMessage" || lines[1][0] != "Transaction" || lines[1][1] != "COMMIT" || lines[1][2] != xid) return null;
        return lines[0][4] == lines[1][3] ? (Lsn.Parse(lines[0][3]), Lsn.Parse(lines[1][3])) : null;
    }
}
