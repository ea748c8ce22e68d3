using DataSync.TestRig;
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
