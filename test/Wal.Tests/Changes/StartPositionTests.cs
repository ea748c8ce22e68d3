using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Changes;

namespace DataSync.Wal.Tests.Changes;

/// <summary>Decoding from an LSN where transactions are in progress: those are reported, not half-applied.</summary>
public sealed class StartPositionTests
{
    [Fact]
    public async Task Transactions_running_at_the_start_are_reported_without_changes()
    {
        await using var rig = await ChangeRig.StartAsync(nameof(Transactions_running_at_the_start_are_reported_without_changes),
            "CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'one')", ["public.t"]);
        await using var open = await rig.Production.Server.OpenAsync(ProductionCluster.Database);
        await using var prepared = await rig.Production.Server.OpenAsync(ProductionCluster.Database);
        await Execute(open, "BEGIN; INSERT INTO t VALUES (2, 'before the start')");
        await Execute(prepared, "BEGIN; INSERT INTO t VALUES (3, 'prepared before the start'); PREPARE TRANSACTION 'early'");
        var runningXid = await Scalar<string>(open, "SELECT pg_current_xact_id()::text");

        await rig.CaptureStartAsync();
        await Execute(open, "INSERT INTO t VALUES (4, 'after the start'); COMMIT");
        await rig.Production.ExecuteAsync("COMMIT PREPARED 'early'");
        await rig.Production.ExecuteAsync("INSERT INTO t VALUES (5, 'all after the start')");
        await rig.ArchiveAsync();

        var seen = new List<string>();
        using var decoder = rig.Decoder();
        foreach (var transaction in decoder.Transactions())
        {
            var changes = transaction.Changes.OfType<RowChange>().Count();
            seen.Add($"{(transaction.StartedBeforeDecoding ? "incomplete" : "complete")} {transaction.Gid ?? "-"} {changes}");
            if (transaction.Gid is null && transaction.StartedBeforeDecoding) Assert.Equal(uint.Parse(runningXid), transaction.Xid);
        }

        Assert.Equal(["incomplete - 0", "incomplete early 0", "complete - 1"], seen);
    }

    /// <summary>
    /// A transaction's first records need not be changes of a synced table (a row lock, a write to another
    /// table). The restart point must lie before them: a decoder restarted there would otherwise see them
    /// before its start and report the transaction as begun before decoding, its changes lost.
    /// </summary>
    [Fact]
    public async Task The_restart_point_precedes_every_record_of_a_transaction_in_progress()
    {
        await using var rig = await ChangeRig.StartAsync(nameof(The_restart_point_precedes_every_record_of_a_transaction_in_progress),
            "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE TABLE elsewhere (id int PRIMARY KEY)", "INSERT INTO t VALUES (1, 'one')", ["public.t"]);
        await rig.CaptureStartAsync();
        await using var open = await rig.Production.Server.OpenAsync(ProductionCluster.Database);
        await Execute(open, "BEGIN");
        var beforeLock = Lsn.Parse(await rig.Production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
        await Execute(open, "SELECT * FROM t WHERE id = 1 FOR UPDATE");
        var afterLock = Lsn.Parse(await rig.Production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
        await Execute(open, "INSERT INTO elsewhere VALUES (1); INSERT INTO t VALUES (2, 'two')");
        await rig.ArchiveAsync();

        Lsn restart;
        using (var decoder = rig.Decoder())
        {
            Assert.Empty(decoder.Transactions().ToList());
            restart = decoder.Reassembler.RestartLsn ?? Lsn.Invalid;
        }

        Assert.True(restart >= beforeLock && restart < afterLock, $"restart point {restart}, the row lock was written between {beforeLock} and {afterLock}");

        await Execute(open, "UPDATE t SET v = 'locked, then changed' WHERE id = 1; COMMIT");
        await rig.ArchiveAsync();
        using var resumed = new ChangeDecoder(rig.Catalog, rig.Locations, rig.Segments.Select(DataSync.Wal.Segments.WalSegmentSource.FromFile), restart);
        var seen = resumed.Transactions().Select(t => $"{(t.StartedBeforeDecoding ? "incomplete" : "complete")} {t.Changes.OfType<RowChange>().Count()}").ToList();
        Assert.Equal(["complete 2"], seen);
    }

    private static async Task Execute(Npgsql.NpgsqlConnection connection, string sql)
    {
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> Scalar<T>(Npgsql.NpgsqlConnection connection, string sql)
    {
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
