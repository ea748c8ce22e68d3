using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;

namespace DataSync.Core.Sync;

/// <summary>A point the stream may resume from: every table has committed what came before it, and the catalog as it stands there.</summary>
public sealed record StreamPoint(Lsn RestartLsn, CatalogSnapshot Catalog, CatalogLocations? Locations, string LastSegment)
{
    /// <summary>The newest commit routed to the tables (every syncing table has seen it) and its time on production; Invalid when none yet.</summary>
    public Lsn RoutedThrough { get; init; }

    public DateTimeOffset? RoutedTime { get; init; }

    /// <summary>The running transaction that holds <see cref="RestartLsn"/> back, if any.</summary>
    public OldestOpenTransaction? OldestOpen { get; init; }

    /// <summary>The newest commit or abort time the WAL read so far shows (production's clock).</summary>
    public DateTimeOffset? WalTime { get; init; }
}

/// <summary>What one routed run applied.</summary>
public sealed record RouteResult(long Transactions, long Rows, IReadOnlyList<TableBatchOutcome> Outcomes, bool Superseded)
{
    /// <summary>The local database outage this run's success ended, described for the log; null when there was none.</summary>
    public string? OutageEnded { get; init; }

    /// <summary>Transactions whose rows were applied while they were read, ahead of their commit, and in how many parts.</summary>
    public long TransactionsAhead { get; init; }

    public long PartsAhead { get; init; }

    public static RouteResult None { get; } = new(0, 0, [], false);
}

/// <summary>
/// The ordered stage after decoding: takes committed transactions in commit order, hands each table's
/// row changes and TRUNCATEs to that table's sink, and closes a batch where a commit lies
/// <c>batchSegments</c> segments after the batch's first (1: at every segment boundary), at a size limit,
/// and at the end of the run: all sinks commit their share with their checkpoints first, then the stream's
/// restart point is recorded. A crash in between only means the next run re-reads transactions the tables'
/// checkpoints already skip, so every table sees each transaction once.
/// <para>Parts of a transaction handed out ahead of its commit (<see cref="CommittedTransaction.AheadOfCommit"/>) go to
/// the sinks at once, with the commit's LSN, into the open batch; the batches they reached do not close until that
/// commit is routed, so a local commit never holds a transaction's rows without its commit (the other tables commit
/// where a batch would end, and go on). A run goes on past its time while such a transaction is open.</para>
/// </summary>
public sealed class ChangeRouter(uint timeline, uint segmentSize, long batchRowLimit = 200_000, int batchSegments = 1)
{
    /// <param name="recordPoint">Records the stream's restart point after a batch; returns false when someone else (a bootstrap) changed the stream meanwhile, which ends this run.</param>
    public Task<RouteResult> RunAsync(ChangeDecoder decoder, IReadOnlyList<(ITableSink Sink, Lsn Checkpoint)> tables, string lastSegment,
        Func<StreamPoint, CancellationToken, Task<bool>> recordPoint, CancellationToken cancellationToken) =>
        RunAsync(decoder, tables, () => lastSegment, recordPoint, cancellationToken);

    /// <param name="lastSegment">The newest segment fed to the decoder (it may grow while the run goes on).</param>
    /// <param name="recordPoint">Records the stream's restart point after a batch; returns false when someone else (a bootstrap) changed the stream meanwhile, which ends this run.</param>
    /// <param name="moreAsync">
    /// Called once the decoder has read all it was given: true when it was given more (the run goes on, the open
    /// batch with it), false to end the run. Its first argument is true while rows of a transaction were routed ahead of
    /// its commit: the run must go on to that commit, which the WAL at hand holds. Null: the run ends there.
    /// </param>
    public async Task<RouteResult> RunAsync(ChangeDecoder decoder, IReadOnlyList<(ITableSink Sink, Lsn Checkpoint)> tables, Func<string> lastSegment,
        Func<StreamPoint, CancellationToken, Task<bool>> recordPoint, CancellationToken cancellationToken, Func<bool, CancellationToken, Task<bool>>? moreAsync = null)
    {
        var sinks = tables.ToDictionary(t => t.Sink.Table.ToString(), t => t.Sink);
        var outcomes = new List<TableBatchOutcome>();
        long transactions = 0, rows = 0, batchRows = 0, transactionsAhead = 0, partsAhead = 0;
        var batchOpen = false;
        ulong batchSegment = 0;
        var routedThrough = Lsn.Invalid;
        DateTimeOffset? routedTime = null;
        // Each catalog descriptor's sink, found by reference: the changes of small transactions alternate between tables
        // (pgbench touches four in each), and naming a table costs two regex matches and a few strings.
        var sinkOf = new Dictionary<TableDescriptor, ITableSink?>(ReferenceEqualityComparer.Instance);
        // Transactions with rows routed ahead of their commit, and whether those rows reached a table; the sinks those
        // rows reached, whose batches stay open until every such commit is routed.
        var ahead = new Dictionary<uint, bool>();
        var holding = new HashSet<ITableSink>(ReferenceEqualityComparer.Instance);

        async Task OpenAsync()
        {
            foreach (var (sink, checkpoint) in tables)
                if (sinks.ContainsKey(sink.Table.ToString())) await sink.BeginAsync(checkpoint, timeline, cancellationToken).ConfigureAwait(false);
            batchOpen = true;
        }

        async Task<bool> CloseAsync(Lsn restart)
        {
            // Tables commit side by side, each in its own local transaction.
            Account(await Task.WhenAll(sinks.Values.Select(s => s.CommitAsync(routedThrough, cancellationToken))).ConfigureAwait(false));
            batchOpen = false;
            batchRows = 0;
            var (catalog, locations) = decoder.Reassembler.CurrentCatalog();
            var reassembler = decoder.Reassembler;
            return await recordPoint(new StreamPoint(restart, catalog, locations, lastSegment())
            {
                RoutedThrough = routedThrough,
                RoutedTime = routedTime,
                OldestOpen = reassembler.OldestOpen,
                WalTime = reassembler.NewestWalTime,
            }, cancellationToken).ConfigureAwait(false);
        }

        // While rows of a transaction are applied ahead of its commit, the tables they did not reach still commit where a
        // batch would end, and go on in a new batch; the stream's restart point stays where it was (that transaction holds it).
        async Task CloseOthersAsync()
        {
            var others = sinks.Values.Where(s => !holding.Contains(s)).ToList();
            Account(await Task.WhenAll(others.Select(s => s.CommitAsync(routedThrough, cancellationToken))).ConfigureAwait(false));
            foreach (var (sink, checkpoint) in tables)
                if (others.Contains(sink) && sinks.ContainsKey(sink.Table.ToString())) await sink.BeginAsync(checkpoint, timeline, cancellationToken).ConfigureAwait(false);
            batchRows = 0;
        }

        void Account(TableBatchOutcome[] closing)
        {
            foreach (var outcome in closing)
            {
                switch (outcome)
                {
                    case TableBatchOutcome.Committed committed:
                        rows += committed.Counts.Total;
                        outcomes.Add(outcome);
                        break;
                    case TableBatchOutcome.Paused or TableBatchOutcome.Withdrawn:
                        outcomes.Add(outcome);
                        sinks.Remove(outcome.Table.ToString());
                        sinkOf.Clear();
                        break;
                }
            }
        }

        // The decoder reads what it was given; the run goes on while more is given to it.
        do
        {
            foreach (var committed in decoder.Transactions())
            {
                if (!batchOpen)
                {
                    await OpenAsync().ConfigureAwait(false);
                    batchSegment = (committed.AheadOfCommit ? committed.FirstLsn : committed.CommitLsn).Value / segmentSize;
                }

                if (committed.StartedBeforeDecoding)
                {
                    // It began before the WAL read here, so its earlier changes are unknown (it comes without
                    // any): every table that has not seen its commit may be missing them, and says so.
                    foreach (var sink in sinks.Values.Where(s => s.Wants(committed.CommitLsn)).ToList())
                    {
                        await sink.PauseAsync(committed.CommitLsn, $"transaction {committed.Xid} began before the WAL this sync decodes from and committed after " +
                            $"the table's copy, so its changes are unknown; run: datasync resync {sink.Table}", cancellationToken).ConfigureAwait(false);
                    }

                    continue;
                }

                var touched = false;
                foreach (var change in committed.Changes)
                {
                    switch (change)
                    {
                        case RowChange row when SinkFor(row.Table, committed.CommitLsn) is { } sink:
                            touched |= await sink.AddAsync(row, committed.CommitLsn, cancellationToken).ConfigureAwait(false);
                            if (committed.AheadOfCommit) holding.Add(sink);
                            batchRows++;
                            break;
                        case TruncateEvent truncate:
                            // Each table empties in its own transaction at the same commit point; a table that another
                            // local table references is emptied by DELETE (foreign keys stay quiet in the apply session).
                            // A synced partitioned table empties only when every partition it has was truncated: a
                            // TRUNCATE of some of them leaves rows the local table cannot tell apart, so it pauses.
                            foreach (var group in truncate.Tables.Where(t => t.HasStorage).GroupBy(t => (t.SyncedSchema, t.SyncedName)))
                            {
                                if (SinkFor(group.First(), committed.CommitLsn) is not { } target) continue;
                                var partitions = PartitionsOf(group.Key.SyncedSchema, group.Key.SyncedName);
                                if (partitions.Count > 0 && !partitions.All(p => group.Any(t => t.RelationOid == p.RelationOid)))
                                {
                                    var truncated = string.Join(", ", group.Select(t => new TableName(t.Schema, t.Name)));
                                    await target.PauseAsync(truncate.Lsn, $"production truncated partition(s) {truncated} of the table alone; truncate the same " +
                                        $"partition(s) locally, then run: datasync resync {target.Table}", cancellationToken).ConfigureAwait(false);
                                    continue;
                                }

                                touched |= await target.TruncateAsync(committed.CommitLsn, cancellationToken).ConfigureAwait(false);
                            }

                            break;
                        case TableAlteredEvent altered when SinkFor(altered.Table, committed.CommitLsn) is { } sink:
                            touched |= await sink.AlterAsync(altered, committed.CommitLsn, cancellationToken).ConfigureAwait(false);
                            break;
                        case SchemaChangedEvent schema when SinkFor(schema.Table, committed.CommitLsn) is { } sink:
                            var changed = schema.Table.IsPartition
                                ? $"production changed partition {new TableName(schema.Table.Schema, schema.Table.Name)} of the table ({schema.What}); " +
                                  "make the same change locally (attach, detach, drop or alter the same partition)"
                                : $"production changed the table's definition ({schema.What}); apply the same DDL to the local table";
                            await sink.PauseAsync(schema.Lsn, $"{changed}, then run: datasync resync {sink.Table}", cancellationToken).ConfigureAwait(false);
                            break;
                        case UndecodableRowEvent undecodable when SinkFor(undecodable.Table, committed.CommitLsn) is { } sink:
                            // One table's damaged data pauses that table; the stream and the other tables go on.
                            await sink.PauseAsync(undecodable.Lsn,
                                $"a change of transaction {undecodable.Xid} cannot be decoded ({undecodable.Detail}); the other tables go on. " +
                                $"If the archived segment is damaged, put an intact copy in the archive; then run: datasync resync {sink.Table}", cancellationToken).ConfigureAwait(false);
                            break;
                    }
                }

                if (committed.AheadOfCommit)
                {
                    // Its commit comes later; until then the batches its rows reached stay open.
                    if (!ahead.ContainsKey(committed.Xid)) transactionsAhead++;
                    partsAhead++;
                    ahead[committed.Xid] = touched || ahead.GetValueOrDefault(committed.Xid);
                    continue;
                }

                if (ahead.Remove(committed.Xid, out var touchedAhead)) touched |= touchedAhead;
                if (ahead.Count == 0) holding.Clear();
                if (touched) transactions++;
                routedThrough = committed.CommitLsn;
                routedTime = committed.CommitTime;

                // A batch ends where the next commit lies batchSegments segments on, or when it has grown large.
                if (batchRows >= batchRowLimit || committed.EndLsn.Value / segmentSize >= batchSegment + (ulong)Math.Max(1, batchSegments))
                {
                    if (ahead.Count > 0)
                    {
                        await CloseOthersAsync().ConfigureAwait(false);
                        batchSegment = committed.EndLsn.Value / segmentSize;
                        continue;
                    }

                    var restart = decoder.Reassembler.RestartLsn ?? committed.EndLsn;
                    if (!await CloseAsync(restart).ConfigureAwait(false)) return new RouteResult(transactions, rows, outcomes, Superseded: true)
                        { TransactionsAhead = transactionsAhead, PartsAhead = partsAhead };
                }
            }
        }
        while (moreAsync is not null && sinks.Count > 0 && await moreAsync(ahead.Count > 0, cancellationToken).ConfigureAwait(false));

        if (ahead.Count > 0 && sinks.Count > 0)
        {
            // Committing now would keep rows without their commit: the open batches are dropped with the run's failure,
            // and the next run reads the transaction again from its first record.
            var (xid, _) = ahead.First();
            throw new InvalidOperationException($"rows of transaction {xid} were applied ahead of its commit, but the WAL up to that commit is not at hand " +
                $"any more (read through {decoder.EndLsn}); nothing of this batch is kept, and the stream reads it again");
        }

        if (!batchOpen) await OpenAsync().ConfigureAwait(false);
        var end = decoder.Reassembler.RestartLsn ?? decoder.EndLsn;
        var current = await CloseAsync(end).ConfigureAwait(false);
        return new RouteResult(transactions, rows, outcomes, Superseded: !current) { TransactionsAhead = transactionsAhead, PartsAhead = partsAhead };

        ITableSink? SinkFor(TableDescriptor table, Lsn commit)
        {
            if (!sinkOf.TryGetValue(table, out var found))
            {
                // A partition's rows go to the synced partitioned table it belongs to.
                found = sinks.GetValueOrDefault(new TableName(table.SyncedSchema, table.SyncedName).ToString());
                sinkOf[table] = found;
            }

            return found is { } sink && sink.Wants(commit) ? sink : null;
        }

        List<TableDescriptor> PartitionsOf(string schema, string name) =>
            decoder.Reassembler.CurrentCatalog().Catalog.Tables.Where(t => t.IsPartition && t.HasStorage && t.SyncedSchema == schema && t.SyncedName == name).ToList();
    }
}
