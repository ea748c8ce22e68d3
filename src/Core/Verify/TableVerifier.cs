using System.Diagnostics;
using DataSync.Core.Apply;
using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Verify;

/// <summary>
/// <c>datasync verify</c> as plain code: for each table, production's own state at the table's checkpoint (the newest
/// base backup restored under STATE_DIR and replayed to exactly that LSN, no connection to production) compared with the
/// local table range by range (<see cref="RangeComparer"/>), a verdict, a VERIFY row in data_sync_logs, and with repair
/// the differing rows copied from the restore (<see cref="TableRepair"/>). With <paramref name="holdTables"/> (a running
/// daemon) each table is held at its checkpoint meanwhile (<see cref="TableHold"/>) while the others go on; without a
/// daemon nothing applies, and the checkpoint is read as it is.
/// </summary>
/// <remarks>
/// What the checkpoint means decides where replay stops: a table's checkpoint is the start of the last commit record it
/// has applied (or one it has seen with nothing for it), and the stream applies a commit only when it starts after the
/// checkpoint. So the table holds every transaction whose commit record starts at or before the checkpoint, and replay
/// stops after the first record starting at or after it: a recovery target LSN, inclusive.
/// </remarks>
public sealed class TableVerifier(SyncOptions options, NpgsqlDataSource local, ArchiveFetcher fetcher, bool holdTables)
{
    /// <summary>Rows per compared range (<see cref="RangeComparer.DefaultRangeRows"/>; tests use fewer, to cross ranges).</summary>
    public int RangeRows { get; init; } = RangeComparer.DefaultRangeRows;

    /// <summary>
    /// The tables to verify: <paramref name="names"/>, or every listed table when none are given. A name not in the
    /// sync list is returned as an error line instead.
    /// </summary>
    public static async Task<(IReadOnlyList<TableName> Tables, IReadOnlyList<string> Errors)> ResolveAsync(NpgsqlDataSource local, IReadOnlyList<TableName> names,
        CancellationToken cancellationToken)
    {
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var listed = (await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false)).Select(t => t.Table).ToList();
        if (names.Count == 0) return (listed, []);
        var errors = names.Where(n => !listed.Contains(n)).Select(n => $"{n} is not in the sync list (add it with datasync add-tables)").ToList();
        return (names.Where(listed.Contains).Distinct().ToList(), errors);
    }

    /// <summary>Verifies <paramref name="table"/> (and repairs it when asked); never throws for the table's own trouble, which becomes the verdict's problem.</summary>
    public async Task<TableVerdict> VerifyAsync(TableName table, bool repair, IVerifyProgress progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var phaseClock = Stopwatch.StartNew();
        VerifyPhase? current = null;
        long? estimated = null;
        void Report(VerifyPhase phase, string? detail, long rows = 0)
        {
            if (phase != current) phaseClock.Restart();
            current = phase;
            progress.Report(new VerifyProgress(table.ToString(), phase, detail, rows, estimated is { } about ? Math.Max(about, rows) : null, phaseClock.Elapsed, clock.Elapsed));
        }

        void Estimated(long? rows) => estimated = rows;

        Report(VerifyPhase.Preparing, holdTables ? "holding the table at its checkpoint" : "reading the table's checkpoint");
        var held = holdTables
            ? await TableHold.HoldAsync(local, table, cancellationToken).ConfigureAwait(false)
            : await TableHold.ReadAsync(local, table, cancellationToken).ConfigureAwait(false);
        if (held is null)
        {
            var verdict = TableVerdict.Failed(table, await WhyNotSyncingAsync(table, cancellationToken).ConfigureAwait(false), clock.Elapsed);
            await LogAsync(verdict, null, null, default, clock, cancellationToken).ConfigureAwait(false);
            Report(VerifyPhase.Done, verdict.Problem);
            return verdict;
        }

        // The restore replays spooled WAL older than the stream's restart point, and the release may rewind the stream there.
        using var spoolHold = fetcher.Spool.HoldOlderSegments();
        TableVerdict result;
        try
        {
            result = await VerifyHeldAsync(held, repair, Report, Estimated, clock, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            result = TableVerdict.Failed(table, TableBootstrapper.Describe(e), clock.Elapsed) with { Checkpoint = held.Checkpoint };
        }
        finally
        {
            if (holdTables) await ReleaseAsync(held).ConfigureAwait(false);
        }

        if (result.Problem is not null) await LogQuietlyAsync(result, clock).ConfigureAwait(false);

        Report(VerifyPhase.Done, result.Identical ? "identical" : result.Problem ?? "different", result.Comparison?.ProductionRows ?? 0);
        return result;
    }

    /// <summary>Releases the holds a daemon left when it stopped or died during a verify; run at daemon start, before the stream.</summary>
    public async Task<IReadOnlyList<TableName>> ReleaseLeftHoldsAsync(CancellationToken cancellationToken)
    {
        var left = await TableHold.LeftAsync(local, cancellationToken).ConfigureAwait(false);
        foreach (var held in left)
        {
            using var spoolHold = fetcher.Spool.HoldOlderSegments();
            await ReleaseAsync(held).ConfigureAwait(false);
        }

        return left.Select(h => h.Table).ToList();
    }

    private async Task<TableVerdict> VerifyHeldAsync(HeldTable held, bool repair, Action<VerifyPhase, string?, long> report, Action<long?> estimated, Stopwatch clock,
        CancellationToken cancellationToken)
    {
        var table = held.Table;
        var checkpoint = held.Checkpoint;
        var backup = await options.BaseBackups.NewestAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (backup.Label.StartLsn >= checkpoint)
            {
                return Problem(held, clock, $"the newest base backup {backup.Name} starts at {backup.Label.StartLsn}, after the table's checkpoint {checkpoint}, so it cannot " +
                    "show production at that point; verify again once the table has synced past the backup's end");
            }

            report(VerifyPhase.Preparing, $"fetching the WAL from {backup.Label.StartSegment} (base backup {backup.Name})", 0);
            await fetcher.FetchFromAsync(backup.Label.StartSegment, cancellationToken).ConfigureAwait(false);
            if (await BackupEnd.FindAsync(backup, fetcher.Archive, options.SegmentSize, cancellationToken).ConfigureAwait(false) is var (end, source) && end > checkpoint)
            {
                return Problem(held, clock, $"the newest base backup {backup.Name} is consistent only at {end} ({source}), after the table's checkpoint {checkpoint}; " +
                    "verify again once the table has synced past it");
            }

            report(VerifyPhase.Restoring, $"restoring base backup {backup.Name} to replay to {checkpoint}", 0);
            await using var restore = await TemporaryRestore.StartAsync(new TemporaryRestoreOptions
            {
                Binaries = options.Binaries,
                Account = options.Account,
                StateDirectory = options.Settings.StateDir,
                Backup = backup,
                WalDirectory = fetcher.Spool.Directory,
                TargetLsn = checkpoint,
                StopExactlyAtTarget = true,
                Progress = new LineProgress(line => report(VerifyPhase.Restoring, line, 0)),
            }, cancellationToken).ConfigureAwait(false);

            await using var production = await ProductionLocale.OpenAsync(name => restore.OpenAsync(name, cancellationToken), options.Settings.ProductionDatabase)
                .ConfigureAwait(false);
            await using var connection = await ApplySession.OpenAsync(local, options.Settings, cancellationToken).ConfigureAwait(false);
            var shape = await ComparedTable.ReadAsync(connection, table, cancellationToken).ConfigureAwait(false);
            foreach (var side in new[] { production, connection })
            {
                await using var settings = new NpgsqlCommand(ComparedTable.SessionSettings, side);
                await settings.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // The total the comparison's progress is measured against: production's statistics as replayed, else the local table's.
            estimated(await TableCopier.EstimateRowsAsync(production, table, cancellationToken).ConfigureAwait(false)
                ?? await TableCopier.EstimateRowsAsync(connection, table, cancellationToken).ConfigureAwait(false));
            report(VerifyPhase.Comparing, null, 0);
            TableComparison comparison;
            await using (var theirs = await production.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false))
            await using (var ours = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false))
            {
                comparison = await new RangeComparer(shape, RangeRows).CompareAsync(production, connection, rows => report(VerifyPhase.Comparing, null, rows), cancellationToken)
                    .ConfigureAwait(false);
                await ours.CommitAsync(cancellationToken).ConfigureAwait(false);
                await theirs.CommitAsync(cancellationToken).ConfigureAwait(false);
            }

            var verdict = new TableVerdict(table, checkpoint, backup.Name, comparison, false, clock.Elapsed);
            var archiveRef = $"base backup {backup.Name} + WAL to {SegmentOf(checkpoint, backup)}";
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var counts = default(ApplyCounts);
            if (repair && !comparison.Identical)
            {
                report(VerifyPhase.Repairing, $"{comparison.Differences.Count} row(s)", comparison.ProductionRows);
                var moved = await TableRepair.StandsStillAsync(connection, shape, holdTables ? TableState.Verifying : TableState.Syncing, checkpoint, cancellationToken)
                    .ConfigureAwait(false);
                if (moved is not null) return Problem(held, clock, $"not repaired: {moved}") with { BackupName = backup.Name, Comparison = comparison };
                counts = await TableRepair.RepairAsync(production, connection, shape, comparison.Differences, cancellationToken).ConfigureAwait(false);
                verdict = verdict with { Repaired = true, Elapsed = clock.Elapsed };
            }

            await SyncState.LogAsync(connection, table, "VERIFY", counts.Total, counts, archiveRef, verdict.LogDetail(), clock.ElapsedMilliseconds, backup.Label.StartLsn, checkpoint,
                cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return verdict;
        }
        finally
        {
            options.BaseBackups.Release(backup);
        }
    }

    /// <summary>A verdict that the table could not be verified (the caller logs it as a VERIFY row).</summary>
    private static TableVerdict Problem(HeldTable held, Stopwatch clock, string problem) =>
        TableVerdict.Failed(held.Table, problem, clock.Elapsed) with { Checkpoint = held.Checkpoint };

    private string SegmentOf(Lsn lsn, BaseBackup backup) => WalSegmentName.OfStart(backup.Label.Timeline, lsn, options.SegmentSize);

    /// <summary>
    /// Lets the table resume: first makes sure the spool holds the WAL from the restart point kept with the hold (the
    /// stream may have trimmed it while the table was held), then releases it, rewinding the stream there.
    /// </summary>
    private async Task ReleaseAsync(HeldTable held)
    {
        var segment = held.RestartSegment ?? WalSegmentName.OfStart(1, held.RestartLsn, options.SegmentSize);
        try
        {
            await fetcher.FetchFromAsync(segment, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The stream reports the gap itself when it gets there; the table must not stay held for it.
            options.Progress?.Report($"verify {held.Table}: could not fetch {segment} again for the table's release: {e.Message}");
        }

        await TableHold.ReleaseAsync(local, held, CancellationToken.None).ConfigureAwait(false);
    }

    private async Task<string> WhyNotSyncingAsync(TableName table, CancellationToken cancellationToken)
    {
        await using var command = local.CreateCommand("SELECT coalesce(s.state, 'new') FROM tables_to_sync t LEFT JOIN datasync_table_state s USING (table_name) WHERE t.table_name = $1");
        command.Parameters.AddWithValue(table.ToString());
        var state = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        return state switch
        {
            null => "it is not in the sync list",
            "verifying" => "another verify holds it",
            "new" or "resync-requested" => $"it is {state}: it has no copy to compare until its bootstrap",
            _ => $"it is {state}, not syncing (see datasync status --verbose)",
        };
    }

    private async Task LogAsync(TableVerdict verdict, string? archiveRef, Lsn? from, ApplyCounts counts, Stopwatch clock, CancellationToken cancellationToken)
    {
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await SyncState.LogAsync(connection, verdict.Table, "VERIFY", counts.Total, counts, archiveRef, $"NOT VERIFIED: {verdict.Problem}", clock.ElapsedMilliseconds, from,
            verdict.Checkpoint.IsValid ? verdict.Checkpoint : null, cancellationToken).ConfigureAwait(false);
    }

    private async Task LogQuietlyAsync(TableVerdict verdict, Stopwatch clock)
    {
        try
        {
            await LogAsync(verdict, null, null, default, clock, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            options.Progress?.Report($"verify {verdict.Table}: could not write its VERIFY row: {e.Message}");
        }
    }

    /// <summary>Progress lines handed on at once, on the reporting thread (<see cref="Progress{T}"/> would post them elsewhere, out of order).</summary>
    private sealed class LineProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
