using System.Diagnostics;
using DataSync.Core.Apply;
using DataSync.Core.Configuration;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// One table's side of the apply: its own local connection and, per batch, one local transaction that
/// takes the table's committed changes in commit order (set-based, through <see cref="TableChangeApplier"/>)
/// and commits them together with the table's checkpoint and its log row. A change that does not fit
/// rolls the batch back and pauses only this table. This is a table applier's work as plain code.
/// </summary>
/// <param name="lockWaits">Told when the batch's session waits for a lock a local session holds (<see cref="LocalLockWatch"/>); null: not watched.</param>
public sealed class TableBatch(NpgsqlDataSource local, DataSyncSettings settings, TableName table, uint segmentSize, Action<string>? lockWaits = null)
    : ITableSink, IAsyncDisposable
{
    private readonly TableChangeApplier _applier = new(table, settings.OnConflict);
    private readonly Stopwatch _clock = new();
    private readonly Stopwatch _idle = new();
    private NpgsqlConnection? _connection;
    private NpgsqlTransaction? _transaction;
    private Lsn _firstCommit;
    private Lsn _lastCommit;
    private uint _timeline = 1;
    private LocalLockWatch? _lockWatch;

    /// <summary>How long the batch's session may wait for a local lock before <c>lockWaits</c> hears of it (then after twice, four times as long…).</summary>
    public TimeSpan LockWaitReportedAfter { get; init; } = TimeSpan.FromSeconds(30);

    public TableName Table => table;

    /// <summary>The last commit this table has applied (changes at or before it are skipped).</summary>
    public Lsn Checkpoint { get; private set; }

    /// <summary>Set once the batch has paused the table; later changes of the batch are ignored.</summary>
    public TableBatchOutcome.Paused? Paused { get; private set; }

    public bool InBatch => _transaction is not null;

    /// <summary>Opens the batch's local transaction; changes committed at or before <paramref name="checkpoint"/> will be skipped.</summary>
    public async Task BeginAsync(Lsn checkpoint, uint timeline, CancellationToken cancellationToken)
    {
        _timeline = timeline;
        if (_transaction is not null) throw new InvalidOperationException($"a batch of {table} is already open");
        if (_connection is not null && !await StillAnswersAsync(_connection, cancellationToken).ConfigureAwait(false))
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
        }

        _connection ??= await ApplySession.OpenAsync(local, settings, cancellationToken).ConfigureAwait(false);
        _transaction = await _connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (lockWaits is not null) _lockWatch = LocalLockWatch.Start(local, table, _connection.ProcessID, LockWaitReportedAfter, lockWaits);
        _applier.Begin();
        Checkpoint = checkpoint;
        Paused = null;
        _firstCommit = Lsn.Invalid;
        _lastCommit = Lsn.Invalid;
        _clock.Restart();
    }

    /// <summary>True when a change committed at <paramref name="commitLsn"/> is still to be applied here.</summary>
    public bool Wants(Lsn commitLsn) => Paused is null && commitLsn > Checkpoint;

    /// <summary>Takes one row change of the transaction committed at <paramref name="commitLsn"/>; false once the table is paused.</summary>
    public ValueTask<bool> AddAsync(RowChange change, Lsn commitLsn, CancellationToken cancellationToken)
    {
        if (!Wants(commitLsn)) return ValueTask.FromResult(false);
        Mark(commitLsn);
        return _applier.Add(change) ? new ValueTask<bool>(MergeRoundAsync(commitLsn, cancellationToken)) : ValueTask.FromResult(true);
    }

    // Apart from AddAsync: its lambda's closure would otherwise be made for every change, not only for a full round.
    private Task<bool> MergeRoundAsync(Lsn commitLsn, CancellationToken cancellationToken) =>
        // A full round: the previous one must be merged by now (a conflict it met surfaces here), this one starts.
        GuardedAsync(commitLsn, () => _applier.MergeRoundAsync(Connection, cancellationToken), cancellationToken);

    /// <summary>An upstream TRUNCATE committed at <paramref name="commitLsn"/>, in its place in commit order.</summary>
    public async Task<bool> TruncateAsync(Lsn commitLsn, CancellationToken cancellationToken)
    {
        if (!Wants(commitLsn)) return false;
        Mark(commitLsn);
        return await GuardedAsync(commitLsn, async () =>
        {
            await _applier.FlushAsync(Connection, cancellationToken).ConfigureAwait(false);
            // TRUNCATE reports no count; one scan before it is the price of telling the operator what it removed.
            var removed = await TableChangeApplier.CountRowsAsync(Connection, table, cancellationToken).ConfigureAwait(false);
            await TableChangeApplier.TruncateAsync(Connection, [table], cancellationToken).ConfigureAwait(false);
            _applier.CountTruncated(removed);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An upstream column change the decoder followed, in its place in commit order: what came before it is merged, the
    /// local table is altered alike (<see cref="LocalTableAlteration"/>) in the batch's transaction, and the applier takes
    /// the table's new shape. An ALTER the local table refuses pauses the table with the statement and the reason.
    /// </summary>
    public async Task<bool> AlterAsync(TableAlteredEvent altered, Lsn commitLsn, CancellationToken cancellationToken)
    {
        if (!Wants(commitLsn)) return false;
        Mark(commitLsn);
        string? refused = null;
        var applied = await GuardedAsync(commitLsn, async () =>
        {
            await _applier.FlushAsync(Connection, cancellationToken).ConfigureAwait(false);
            refused = await LocalTableAlteration.ApplyAsync(Connection, table, altered, cancellationToken).ConfigureAwait(false);
            if (refused is null) await _applier.ReshapeAsync(Connection, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        if (!applied) return false;
        if (refused is null) return true;
        await PauseAsync(altered.Lsn, $"production altered the table ({string.Join("; ", altered.Alterations)}) and the local table refused the same change: " +
            $"{refused}; make the local table match production's columns, then run: datasync resync {table}", cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>Pauses the table for a reason found while decoding (a schema change, a transaction whose start was not read).</summary>
    public async Task PauseAsync(Lsn lsn, string cause, CancellationToken cancellationToken)
    {
        if (Paused is not null) return;
        await RollbackAsync().ConfigureAwait(false);
        var file = SegmentOf(lsn);
        await SyncState.PauseAsync(local, table, file, lsn, cause, cancellationToken).ConfigureAwait(false);
        Paused = new TableBatchOutcome.Paused(table, file, lsn, cause);
    }

    /// <summary>
    /// Merges what is left and commits the batch with the table's new checkpoint and its SUCCESS log row.
    /// The checkpoint only moves while the table is still syncing: a resync, clear or removal that came in
    /// meanwhile wins, and the batch is rolled back.
    /// </summary>
    public async Task<TableBatchOutcome> CommitAsync(Lsn routedThrough, CancellationToken cancellationToken)
    {
        if (Paused is not null) return Paused;
        if (_transaction is null) return new TableBatchOutcome.Empty(table);
        if (!_lastCommit.IsValid)
        {
            // Nothing for this table, but it has seen every commit routed so far.
            if (routedThrough.IsValid && routedThrough > Checkpoint &&
                await SyncState.PassCheckpointAsync(Connection, table, Checkpoint, routedThrough, cancellationToken).ConfigureAwait(false))
            {
                await _transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                await EndTransactionAsync().ConfigureAwait(false);
                Checkpoint = routedThrough;
                return new TableBatchOutcome.Committed(table, default, routedThrough, SegmentOf(routedThrough));
            }

            await RollbackAsync().ConfigureAwait(false);
            return new TableBatchOutcome.Empty(table);
        }

        if (!await GuardedAsync(_lastCommit, () => _applier.FlushAsync(Connection, cancellationToken), cancellationToken).ConfigureAwait(false))
            return Paused!;

        var counts = _applier.Counts;
        var first = SegmentOf(_firstCommit);
        var last = SegmentOf(_lastCommit);
        if (!await SyncState.AdvanceCheckpointAsync(Connection, table, _lastCommit, last, counts.Total, cancellationToken).ConfigureAwait(false))
        {
            await RollbackAsync().ConfigureAwait(false);
            return new TableBatchOutcome.Withdrawn(table);
        }

        await SyncState.LogAsync(Connection, table, "SUCCESS", counts.Total, counts, first == last ? last : $"{first}..{last}", null,
            _clock.ElapsedMilliseconds, _firstCommit, _lastCommit, cancellationToken).ConfigureAwait(false);
        // Commits routed after this table's last change had nothing for it: it has seen them too.
        var checkpoint = routedThrough > _lastCommit &&
            await SyncState.PassCheckpointAsync(Connection, table, _lastCommit, routedThrough, cancellationToken).ConfigureAwait(false)
                ? routedThrough : _lastCommit;
        await _transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        await EndTransactionAsync().ConfigureAwait(false);
        Checkpoint = checkpoint;
        return new TableBatchOutcome.Committed(table, counts, checkpoint, last);
    }

    /// <summary>Drops the open batch, if any: nothing of it is kept.</summary>
    public async Task RollbackAsync()
    {
        if (_transaction is null) return;
        await _applier.SettleAsync().ConfigureAwait(false);
        try
        {
            await _transaction.RollbackAsync().ConfigureAwait(false);
        }
        catch (Exception) when (_connection is { State: not System.Data.ConnectionState.Open })
        {
            // The connection is gone; so is the transaction.
        }

        await EndTransactionAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await RollbackAsync().ConfigureAwait(false);
        if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
        _connection = null;
    }

    /// <summary>Lets go of the finished (committed or rolled back) transaction; the connection's idle time counts from here.</summary>
    private async ValueTask EndTransactionAsync()
    {
        if (_lockWatch is not null)
        {
            await _lockWatch.DisposeAsync().ConfigureAwait(false);
            _lockWatch = null;
        }

        await _transaction!.DisposeAsync().ConfigureAwait(false);
        _transaction = null;
        _idle.Restart();
    }

    /// <summary>How long the connection may sit unused before a batch checks that it still answers.</summary>
    internal static TimeSpan CheckedAfterIdle { get; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// False for a connection that broke or that the server dropped while it sat between batches (a restart of the local
    /// server ends every session, and the client only learns it at its next use): the batch then opens a new one
    /// instead of failing the stream once more after the server is back. A connection used within
    /// <see cref="CheckedAfterIdle"/> is taken as it is, so back-to-back batches of a catch-up pay no round trip.
    /// </summary>
    private async Task<bool> StillAnswersAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (connection.State != System.Data.ConnectionState.Open) return false;
        if (_idle.Elapsed < CheckedAfterIdle) return true;
        try
        {
            await using var probe = new NpgsqlCommand("SELECT 1", connection);
            await probe.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (LocalDatabaseOutage.IsOutage(e) && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private NpgsqlConnection Connection => _transaction is not null ? _connection! : throw new InvalidOperationException($"no batch of {table} is open");

    private string SegmentOf(Lsn lsn) => WalSegmentName.OfStart(_timeline, lsn, segmentSize);

    // Rows of a transaction applied ahead of its commit come with that commit's LSN, before transactions that commit
    // earlier: the batch spans the lowest and the highest commit it holds.
    private void Mark(Lsn commitLsn)
    {
        if (!_firstCommit.IsValid || commitLsn < _firstCommit) _firstCommit = commitLsn;
        if (commitLsn > _lastCommit) _lastCommit = commitLsn;
    }

    /// <summary>A conflict may surface when a round is merged, later than the change that caused it; it pauses the table.</summary>
    private async Task<bool> GuardedAsync(Lsn fallback, Func<Task> work, CancellationToken cancellationToken)
    {
        try
        {
            await work().ConfigureAwait(false);
            return true;
        }
        catch (ApplyConflictException e)
        {
            // No change named: the round's counts disagreed with every change fitting on its own (ApplyConflictException).
            var (lsn, cause) = e.Lsn.IsValid
                ? (e.Lsn, "was the local copy changed by hand?")
                : (fallback, $"does something local hide or skip rows from the apply ({ApplyConflictException.HidingCauses})?");
            await PauseAsync(lsn, e.Detail + $"; {cause} run: datasync resync {table}", cancellationToken).ConfigureAwait(false);
            return false;
        }
        catch (PostgresException e) when (e.SqlState.StartsWith("22", StringComparison.Ordinal) || e.SqlState.StartsWith("23", StringComparison.Ordinal))
        {
            // A value the local table cannot take (too long, out of range, refused by a constraint the local table adds):
            // this table's concern alone, so it pauses and the stream goes on for the others.
            var where = e.ColumnName is null ? "" : $" (column {e.ColumnName})";
            await PauseAsync(fallback, $"a change production committed does not fit the local table{where}: {e.MessageText} (SQLSTATE {e.SqlState}); " +
                $"make the local table accept production's values (the same column types and constraints), then run: datasync resync {table}", cancellationToken)
                .ConfigureAwait(false);
            return false;
        }
    }
}
