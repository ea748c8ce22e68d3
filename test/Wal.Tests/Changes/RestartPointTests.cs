using DataSync.TestRig;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// The restart point a run leaves for the next one: a transaction still open at the end, whose first records
/// were a row lock and a change to an unsynced table, must be re-read whole from its first record, not
/// from its first change of a synced table (else its earlier records lie before the start and it looks
/// begun before decoding).
/// </summary>
public sealed class RestartPointTests
{
    private const uint SegmentSize = 16 * 1024 * 1024;

    [Fact]
    public async Task A_transaction_open_at_the_end_of_a_run_is_read_whole_by_the_next_run()
    {
        await using var rig = await ChangeRig.StartAsync(nameof(A_transaction_open_at_the_end_of_a_run_is_read_whole_by_the_next_run),
            "CREATE TABLE t (id int PRIMARY KEY, v text); CREATE TABLE other (id int PRIMARY KEY)", "INSERT INTO t SELECT g, 'v' FROM generate_series(1, 10) g", ["public.t"]);
        await rig.CaptureStartAsync();
        await using var open = await rig.Production.Server.OpenAsync(ProductionCluster.Database);
        foreach (var statement in new[]
        {
            "BEGIN",
            "SELECT * FROM t WHERE id = 1 FOR UPDATE",      // its first record: a row lock
            "INSERT INTO other VALUES (1)",                  // then a change nobody syncs
            "UPDATE t SET v = 'first change' WHERE id = 2",  // then its first change of a synced table
        })
        {
            await using var command = new Npgsql.NpgsqlCommand(statement, open);
            await command.ExecuteNonQueryAsync();
        }

        string xid;
        await using (var current = new Npgsql.NpgsqlCommand("SELECT pg_current_xact_id()::text", open))
            xid = (string)(await current.ExecuteScalarAsync())!;
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        await rig.Production.ExecuteAsync("UPDATE t SET v = 'committed meanwhile' WHERE id = 3");
        await rig.ArchiveAsync();

        // First run: everything archived so far; the open transaction holds the restart point back.
        Lsn restart;
        CatalogSnapshot catalog;
        CatalogLocations? locations;
        using (var first = rig.Decoder())
        {
            Assert.Single(first.Transactions(), t => t.Changes.OfType<RowChange>().Count() == 1);
            restart = first.Reassembler.RestartLsn ?? first.EndLsn;
            // What holds the restart point: that transaction, from its first record, begun by the first commit seen after it.
            var oldest = first.Reassembler.OldestOpen;
            Assert.NotNull(oldest);
            Assert.Equal(xid, oldest.Xid.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(restart, oldest.FirstLsn);
            Assert.NotNull(oldest.OpenBy);
            Assert.InRange(oldest.OpenBy.Value, before, first.Reassembler.NewestWalTime!.Value);
            (catalog, locations) = first.Reassembler.CurrentCatalog();
        }

        await using (var finish = new Npgsql.NpgsqlCommand("UPDATE t SET v = 'second change' WHERE id = 4", open))
            await finish.ExecuteNonQueryAsync();
        await using (var commit = new Npgsql.NpgsqlCommand("COMMIT", open))
            await commit.ExecuteNonQueryAsync();
        await rig.ArchiveAsync();

        // Second run, from that restart point: the transaction comes whole, with both changes.
        var from = WalSegmentName.Format(1, restart.Value / SegmentSize, SegmentSize);
        var segments = rig.Segments.Where(s => string.CompareOrdinal(Path.GetFileName(s), from) >= 0).Select(WalSegmentSource.FromFile);
        using var second = new ChangeDecoder(catalog, locations, segments, restart);
        var transactions = second.Transactions().Select(t => (t.StartedBeforeDecoding, Changes: t.Changes.OfType<RowChange>().Count())).ToList();
        Assert.Contains((false, 2), transactions);
        Assert.DoesNotContain(transactions, t => t.StartedBeforeDecoding);
        Assert.Null(second.Reassembler.OldestOpen);
    }
}
