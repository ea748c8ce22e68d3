using DataSync.Core.Apply;
using DataSync.Core.Bootstrap;
using DataSync.Core.Configuration;
using DataSync.Core.Schema;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.TestRig;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Tests.Sync;

/// <summary>The router over real WAL: what each table's sink receives, where batches close, which restart points are recorded.</summary>
public sealed class ChangeRouterTests
{
    private const uint SegmentSize = 16 * 1024 * 1024;
    private const string Ddl = "CREATE TABLE a (id int PRIMARY KEY, v text); CREATE TABLE b (id int PRIMARY KEY, v text);";

    [Fact]
    public async Task Routes_each_table_its_changes_in_commit_order_and_closes_a_batch_at_every_segment()
    {
        await using var production = await ProductionCluster.StartAsync("router");
        await production.ExecuteAsync(Ddl);
        var (catalog, locations, start) = await CatalogAsync(production);
        var commits = new List<string>();
        for (var round = 0; round < 3; round++)
        {
            await production.ExecuteAsync($"INSERT INTO a SELECT g, 'r{round}' FROM generate_series({round * 10 + 1}, {round * 10 + 10}) g");
            await production.ExecuteAsync($"INSERT INTO b VALUES ({round}, 'r{round}')");
            await production.ExecuteAsync($"UPDATE a SET v = 'u{round}' WHERE id = {round * 10 + 1}");
            commits.Add(await production.SwitchSegmentAndWaitArchivedAsync());
        }

        await production.ExecuteAsync("BEGIN; DELETE FROM a WHERE id = 2; ROLLBACK;");
        await production.ExecuteAsync("TRUNCATE b");
        await production.SwitchSegmentAndWaitArchivedAsync();

        var a = new RecordingSink(new TableName("public", "a"));
        var b = new RecordingSink(new TableName("public", "b"));
        var points = new List<StreamPoint>();
        using var decoder = Decoder(production, catalog, locations, start);
        var result = await new ChangeRouter(1, SegmentSize).RunAsync(decoder, [(a, Lsn.Invalid), (b, Lsn.Invalid)], "last",
            (point, _) => { points.Add(point); return Task.FromResult(true); }, CancellationToken.None);

        Assert.False(result.Superseded);
        Assert.Equal(3 * 10 + 3, a.Rows.Count);                        // 30 inserts and 3 updates; the rolled-back delete never arrives
        Assert.Equal(["u0", "u1", "u2"], a.Rows.Where(r => r.Kind == ChangeKind.Update).Select(r => r.Text ?? "").ToList());
        Assert.Equal(3, b.Rows.Count);
        Assert.Single(b.Truncates);
        Assert.True(b.Truncates[0] > b.Rows[^1].Commit);               // the TRUNCATE comes after b's inserts, in commit order
        Assert.True(a.Rows.Zip(a.Rows.Skip(1)).All(p => p.Item1.Commit <= p.Item2.Commit));
        // One batch per segment with commits (each round's three transactions share a segment), plus the TRUNCATE's.
        Assert.Equal(4, a.Commits);
        Assert.Equal(points.Count, a.Commits);
        Assert.True(points.Zip(points.Skip(1)).All(p => p.Item1.RestartLsn <= p.Item2.RestartLsn));
        Assert.Equal(decoder.EndLsn, points[^1].RestartLsn);            // nothing left open: the stream resumes at the end
        Assert.Equal(3 * 3 + 1, result.Transactions);
    }

    [Fact]
    public async Task Changes_that_alternate_between_tables_reach_each_table_and_none_after_it_paused()
    {
        await using var production = await ProductionCluster.StartAsync("router-alternate");
        await production.ExecuteAsync(Ddl);
        var (catalog, locations, start) = await CatalogAsync(production);
        // pgbench's shape: every transaction touches both tables, one change after the other.
        for (var round = 0; round < 2; round++)
        {
            for (var i = 1; i <= 20; i++)
            {
                var id = round * 100 + i;
                await production.ExecuteAsync($"BEGIN; INSERT INTO a VALUES ({id}, 'a{id}'); INSERT INTO b VALUES ({id}, 'b{id}'); " +
                    $"UPDATE a SET v = 'a{id}u' WHERE id = {id}; UPDATE b SET v = 'b{id}u' WHERE id = {id}; COMMIT;");
            }

            await production.SwitchSegmentAndWaitArchivedAsync();
        }

        var a = new RecordingSink(new TableName("public", "a"));
        // b pauses when its first batch (the first segment) commits: nothing of the second segment may reach it.
        var b = new RecordingSink(new TableName("public", "b")) { PauseAtFirstCommit = true };
        using var decoder = Decoder(production, catalog, locations, start);
        var result = await new ChangeRouter(1, SegmentSize).RunAsync(decoder, [(a, Lsn.Invalid), (b, Lsn.Invalid)], "last",
            (_, _) => Task.FromResult(true), CancellationToken.None);

        string[] Expected(string table, int rounds) =>
            [.. Enumerable.Range(0, rounds).SelectMany(r => Enumerable.Range(1, 20).Select(i => r * 100 + i)).SelectMany(id => new[] { $"{table}{id}", $"{table}{id}u" })];
        Assert.Equal(Expected("a", 2), a.Rows.Select(r => r.Text ?? "").ToArray());
        // The first batch ends with the first commit of the second segment (a batch closes after the commit that crosses).
        var paused = Assert.Single(result.Outcomes.OfType<TableBatchOutcome.Paused>());
        Assert.Equal([.. Expected("b", 1), "b101", "b101u"], b.Rows.Select(r => r.Text ?? "").ToArray());
        Assert.All(b.Rows, r => Assert.True(r.Commit <= paused.Lsn));
        Assert.Equal(40, result.Transactions);
    }

    [Fact]
    public async Task Skips_commits_a_table_has_and_stops_when_a_bootstrap_supersedes_the_stream()
    {
        await using var production = await ProductionCluster.StartAsync("router-skip");
        await production.ExecuteAsync(Ddl);
        var (catalog, locations, start) = await CatalogAsync(production);
        for (var round = 0; round < 3; round++)
        {
            await production.ExecuteAsync($"INSERT INTO a VALUES ({round}, 'r{round}')");
            await production.SwitchSegmentAndWaitArchivedAsync();
        }

        // First pass: learn the commit LSNs; second: a table whose checkpoint is the first commit gets only the later two.
        var all = new RecordingSink(new TableName("public", "a"));
        using (var decoder = Decoder(production, catalog, locations, start))
            await new ChangeRouter(1, SegmentSize).RunAsync(decoder, [(all, Lsn.Invalid)], "last", (_, _) => Task.FromResult(true), CancellationToken.None);
        Assert.Equal(3, all.Rows.Count);

        var later = new RecordingSink(new TableName("public", "a"));
        var recorded = 0;
        using (var decoder = Decoder(production, catalog, locations, start))
        {
            var result = await new ChangeRouter(1, SegmentSize).RunAsync(decoder, [(later, all.Rows[0].Commit)], "last",
                (_, _) => Task.FromResult(++recorded < 1), CancellationToken.None);
            Assert.True(result.Superseded);                              // the first recorded point was refused: the run ends there
        }

        Assert.Equal(1, recorded);
        Assert.Equal(["r1"], later.Rows.Select(r => r.Text ?? "").ToList());
    }

    [Fact]
    public async Task A_table_batch_gives_way_to_a_resync_asked_while_it_was_open()
    {
        await using var production = await ProductionCluster.StartAsync("router-batch");
        await using var local = await LocalCluster.StartAsync("router-batch");
        await production.ExecuteAsync(Ddl);
        await local.ExecuteAsync(Ddl);
        var (catalog, locations, start) = await CatalogAsync(production);
        await production.ExecuteAsync("INSERT INTO a SELECT g, 'x' FROM generate_series(1, 50) g");
        await production.SwitchSegmentAndWaitArchivedAsync();

        var table = new TableName("public", "a");
        await using var dataSource = await EngineSetup.SyncingAsync(local, table, new Lsn(1));
        var settings = EngineSetup.LocalSettings(local);
        await using var batch = new TableBatch(dataSource, settings, table, SegmentSize);
        var resyncAsked = new ResyncOnCommit(batch, dataSource);
        using var decoder = Decoder(production, catalog, locations, start);
        var result = await new ChangeRouter(1, SegmentSize).RunAsync(decoder, [(resyncAsked, new Lsn(1))], "last", (_, _) => Task.FromResult(true), CancellationToken.None);

        Assert.IsType<TableBatchOutcome.Withdrawn>(Assert.Single(result.Outcomes));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM a"));
        Assert.Equal("resync-requested", await local.QueryScalarAsync<string>("SELECT state FROM datasync_table_state"));
        Assert.Equal(0L, await local.QueryScalarAsync<long>("SELECT count(*) FROM data_sync_logs"));
    }

    [Fact]
    public async Task Rows_of_a_transaction_whose_commit_is_at_hand_go_out_ahead_of_it_and_no_batch_closes_until_that_commit()
    {
        await using var production = await ProductionCluster.StartAsync("router-ahead");
        await production.ExecuteAsync(Ddl);
        var (catalog, locations, start) = await CatalogAsync(production);
        await using var big = await production.Server.OpenAsync(ProductionCluster.Database);
        await Execute(big, "BEGIN; INSERT INTO a SELECT g, 'x' || g FROM generate_series(1, 20000) g");
        // Another session commits in between, on the other table; a segment ends inside the big transaction.
        await production.ExecuteAsync("INSERT INTO b VALUES (1, 'between')");
        await Execute(big, "SELECT pg_switch_wal(); INSERT INTO a SELECT g, 'x' || g FROM generate_series(20001, 40000) g");
        await production.ExecuteAsync("INSERT INTO b VALUES (3, 'second')");
        await Execute(big, "INSERT INTO a SELECT g, 'x' || g FROM generate_series(40001, 50000) g");
        await Execute(big, "SAVEPOINT s; INSERT INTO a VALUES (-1, 'rolled back'); ROLLBACK TO SAVEPOINT s; COMMIT");
        await production.ExecuteAsync("INSERT INTO b VALUES (2, 'after')");
        await production.SwitchSegmentAndWaitArchivedAsync();

        var journal = new List<string>();
        var a = new RecordingSink(new TableName("public", "a")) { Journal = journal };
        var b = new RecordingSink(new TableName("public", "b")) { Journal = journal };
        var scout = new TransactionEndScout(lsn => Segments(production, lsn).ToList());
        using var decoder = Decoder(production, catalog, locations, start, new ReassemblerOptions { EndAhead = scout.Find, AheadPartBytes = 256 * 1024 });
        var result = await new ChangeRouter(1, SegmentSize).RunAsync(decoder, [(a, Lsn.Invalid), (b, Lsn.Invalid)], "last",
            (_, _) => Task.FromResult(true), CancellationToken.None);

        Assert.Equal(50000, a.Rows.Count);
        Assert.DoesNotContain(a.Rows, r => r.Text == "rolled back");
        var bigCommit = a.Rows[0].Commit;
        Assert.All(a.Rows, r => Assert.Equal(bigCommit, r.Commit));
        Assert.True(b.Rows[0].Commit < bigCommit);
        // Some of the big transaction's rows went out before the transaction that committed ahead of it: they were read
        // and routed while its commit was still to come.
        var between = journal.IndexOf("b between");
        Assert.True(between > 0 && journal.Take(between).Any(e => e.StartsWith("a x", StringComparison.Ordinal)), "no row went out ahead of its commit");
        // The commit of "second", a segment after the batch's first, ends a batch: b's, which holds none of the big
        // transaction's rows, commits there; a's stays open until the big transaction's commit.
        var firstBig = journal.FindIndex(e => e.StartsWith("a x", StringComparison.Ordinal));
        var lastBig = journal.FindLastIndex(e => e.StartsWith("a x", StringComparison.Ordinal));
        var during = journal.Skip(firstBig).Take(lastBig - firstBig).ToList();
        Assert.DoesNotContain("commit a", during);
        Assert.Contains("commit b", during);
        Assert.True(during.IndexOf("commit b") > during.IndexOf("b second"), "b committed before its row of the second transaction");
        Assert.Equal(4, result.Transactions);
        Assert.Equal(1, result.TransactionsAhead);
        Assert.True(result.PartsAhead >= 2, $"{result.PartsAhead} part(s)");
        Assert.True(scout.SegmentsRead > 0);
    }

    private static async Task Execute(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static IEnumerable<WalSegmentSource> Segments(ProductionCluster production, Lsn from)
    {
        var first = WalSegmentName.Format(1, from.Value / SegmentSize, SegmentSize);
        return production.ArchivedSegments().Where(s => string.CompareOrdinal(Path.GetFileName(s), first) >= 0).Order(StringComparer.Ordinal).Select(WalSegmentSource.FromFile);
    }

    private static async Task<(CatalogSnapshot, CatalogLocations, Lsn)> CatalogAsync(ProductionCluster production)
    {
        await using var source = await production.Server.OpenAsync(ProductionCluster.Database);
        var start = Lsn.Parse(await production.QueryScalarAsync<string>("SELECT pg_current_wal_insert_lsn()::text"));
        var (catalog, locations) = await ProductionCatalogReader.ReadAsync(source, [new("public", "a"), new("public", "b")], start, CancellationToken.None);
        return (catalog, locations, start);
    }

    private static ChangeDecoder Decoder(ProductionCluster production, CatalogSnapshot catalog, CatalogLocations locations, Lsn start, ReassemblerOptions? options = null) =>
        new(catalog, locations, Segments(production, start), start, options);

    private sealed record RoutedRow(ChangeKind Kind, string? Text, Lsn Commit);

    /// <summary>A sink that keeps what it is given (the second column of each new row as text).</summary>
    private sealed class RecordingSink(TableName table) : ITableSink
    {
        private Lsn _checkpoint;

        public List<RoutedRow> Rows { get; } = [];
        public List<Lsn> Truncates { get; } = [];
        public int Commits { get; private set; }

        /// <summary>Where every sink of a test writes, in call order: "table text" for a row, "commit table" for a batch's commit.</summary>
        public List<string>? Journal { get; init; }
        public TableName Table => table;

        /// <summary>The first commit answers that the table paused (as a conflict found at the merge would).</summary>
        public bool PauseAtFirstCommit { get; init; }

        public bool Wants(Lsn commitLsn) => commitLsn > _checkpoint;

        public Task BeginAsync(Lsn checkpoint, uint timeline, CancellationToken cancellationToken)
        {
            _checkpoint = checkpoint;
            return Task.CompletedTask;
        }

        public ValueTask<bool> AddAsync(RowChange change, Lsn commitLsn, CancellationToken cancellationToken)
        {
            var text = change.NewRow is { } row && row.State(1) == Wal.Values.FieldState.Value ? System.Text.Encoding.UTF8.GetString(row.Field(1)) : null;
            Rows.Add(new RoutedRow(change.Kind, text, commitLsn));
            Journal?.Add($"{table.Name} {text}");
            return ValueTask.FromResult(true);
        }

        public Task<bool> TruncateAsync(Lsn commitLsn, CancellationToken cancellationToken)
        {
            Truncates.Add(commitLsn);
            return Task.FromResult(true);
        }

        public Task<bool> AlterAsync(TableAlteredEvent altered, Lsn commitLsn, CancellationToken cancellationToken) => throw new InvalidOperationException(altered.ToString());

        public Task PauseAsync(Lsn lsn, string cause, CancellationToken cancellationToken) => throw new InvalidOperationException(cause);

        public Task<TableBatchOutcome> CommitAsync(Lsn routedThrough, CancellationToken cancellationToken)
        {
            Commits++;
            Journal?.Add($"commit {table.Name}");
            if (PauseAtFirstCommit && Commits == 1)
                return Task.FromResult<TableBatchOutcome>(new TableBatchOutcome.Paused(table, "f", routedThrough, "paused by the test"));
            return Task.FromResult<TableBatchOutcome>(new TableBatchOutcome.Committed(table, new ApplyCounts(Rows.Count, 0, 0), _checkpoint, "f"));
        }
    }

    /// <summary>A real table batch; just before it commits, a resync is asked for its table from another session.</summary>
    private sealed class ResyncOnCommit(TableBatch batch, NpgsqlDataSource local) : ITableSink
    {
        public TableName Table => batch.Table;
        public bool Wants(Lsn commitLsn) => batch.Wants(commitLsn);
        public Task BeginAsync(Lsn checkpoint, uint timeline, CancellationToken cancellationToken) => batch.BeginAsync(checkpoint, timeline, cancellationToken);
        public ValueTask<bool> AddAsync(RowChange change, Lsn commitLsn, CancellationToken cancellationToken) => batch.AddAsync(change, commitLsn, cancellationToken);
        public Task<bool> TruncateAsync(Lsn commitLsn, CancellationToken cancellationToken) => batch.TruncateAsync(commitLsn, cancellationToken);
        public Task<bool> AlterAsync(TableAlteredEvent altered, Lsn commitLsn, CancellationToken cancellationToken) => batch.AlterAsync(altered, commitLsn, cancellationToken);
        public Task PauseAsync(Lsn lsn, string cause, CancellationToken cancellationToken) => batch.PauseAsync(lsn, cause, cancellationToken);

        public async Task<TableBatchOutcome> CommitAsync(Lsn routedThrough, CancellationToken cancellationToken)
        {
            await using (var connection = await local.OpenConnectionAsync(cancellationToken))
            await using (var resync = new NpgsqlCommand("UPDATE datasync_table_state SET state = 'resync-requested'", connection))
                await resync.ExecuteNonQueryAsync(cancellationToken);
            return await batch.CommitAsync(routedThrough, cancellationToken);
        }
    }
}
