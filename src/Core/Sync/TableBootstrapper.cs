using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DataSync.Core.Apply;
using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// Gives tables their starting contents: restores the newest base backup under STATE_DIR, lets it replay
/// the spooled WAL and pause, reads production's catalog there and copies the tables into the local ones,
/// all in one local transaction with their checkpoints and the stream's new starting point. Meant to run
/// beside the stream: the stream row's generation keeps the two from overwriting each other.
/// </summary>
public sealed class TableBootstrapper(SyncOptions options, NpgsqlDataSource local, ArchiveFetcher fetcher)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    private readonly BootstrapRetry _retry = new(options.BootstrapFirstPause, options.BootstrapLongestPause);

    /// <summary>
    /// The running attempt's progress (phase, bytes restored, WAL replayed, rows copied) and how the last attempt that did
    /// not copy a table ended: read by <c>status</c> and <c>resync --wait</c> through the daemon's control channel.
    /// </summary>
    public BootstrapProgress LiveProgress { get; } = new();

    /// <summary>How long a bootstrap replays further, waiting for transactions that began before the backup to end, before it gives up until the next pass.</summary>
    public TimeSpan OpenTransactionPatience { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Moves the paused restore on until no transaction in progress there began before the base backup's
    /// start. Decoding resumes at that start, so such a transaction's earlier changes would be unknown to
    /// the stream while missing from the copy; once it has ended, the copy contains it (or not) whole.
    /// Returns why it waits, to try again on a later pass, when they stay open longer than the patience allows; null once complete.
    /// </summary>
    private async Task<string?> ReachCompletePointAsync(TemporaryRestore restore, BaseBackup backup, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var segments = fetcher.Spool.Segments().Where(s => string.CompareOrdinal(s, backup.Label.StartSegment) >= 0)
            .Select(s => WalSegmentSource.FromFile(fetcher.Spool.PathOf(s)));
        var mark = RunningTransactionsMark.Find(segments, backup.Label.StartLsn)
            ?? throw new InvalidDataException($"the WAL after base backup {backup.Name} (start {backup.Label.StartLsn}) has no RUNNING_XACTS record; was it taken with wal_level logical?");
        var deadline = DateTime.UtcNow + OpenTransactionPatience;
        var told = false;
        while (true)
        {
            var snapshot = restore.Snapshot;
            var exposed = snapshot.InProgress.Where(mark.AssignedBefore).ToList();
            if (exposed.Count == 0) return null;
            if (!told)
            {
                LiveProgress.Enter(BootstrapPhase.Waiting, $"transaction(s) {string.Join(", ", exposed)} began before base backup {backup.Name} and are still open");
                progress?.Report($"transaction(s) {string.Join(", ", exposed)} began before base backup {backup.Name} and are still open at {snapshot.ReplayLsn}; " +
                    "waiting for them to end before copying");
                told = true;
            }

            var newest = await SpooledWalEndAsync(cancellationToken).ConfigureAwait(false);
            if (newest > snapshot.ReplayLsn)
            {
                progress?.Report($"transaction(s) {string.Join(", ", exposed)} began before base backup {backup.Name} and are still open at {snapshot.ReplayLsn}; replaying on to {newest}");
                await restore.AdvanceAsync(newest, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (DateTime.UtcNow > deadline)
            {
                return $"transaction(s) {string.Join(", ", exposed)} began before base backup {backup.Name} and are still open at " +
                    $"{snapshot.ReplayLsn}; the copy is taken once they have ended";
            }

            // Polling, within the patience's deadline, for production (through the archive) to end those transactions.
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Fetches what the archive has gained and returns a point just past the start of the last whole record
    /// the spool holds: replay that has passed it has applied all the WAL there is so far.
    /// </summary>
    private async Task<Lsn> SpooledWalEndAsync(CancellationToken cancellationToken)
    {
        await fetcher.FetchNewAsync(null, 1, cancellationToken).ConfigureAwait(false);
        var tail = fetcher.Spool.Segments().TakeLast(2).Select(s => WalSegmentSource.FromFile(fetcher.Spool.PathOf(s))).ToList();
        if (tail.Count == 0) return Lsn.Invalid;
        using var reader = new WalRecordReader(tail);
        var last = Lsn.Invalid;
        while (reader.MoveNext()) last = reader.Current.Lsn;
        return last.IsValid ? new Lsn(last.Value + 1) : Lsn.Invalid;
    }

    /// <summary>
    /// The table checkpoint for a copy taken where the restore paused. The server reports the end of the last record it
    /// replayed, which is where the next record starts; a commit starting there is not in the copy, yet a checkpoint of
    /// that position would count it as applied (a table applies the commits that start after its checkpoint). So the
    /// checkpoint is the start of the last replayed record, read from the spool, as a checkpoint the stream commits is the
    /// start of the last commit applied; without that WAL, one byte before the position says the same to the stream.
    /// </summary>
    internal static Lsn CheckpointOfCopy(WalSpool spool, uint segmentSize, Lsn position)
    {
        if (!position.IsValid || position.Value == 0) return position;
        var fallback = new Lsn(position.Value - 1);
        var holding = (position.Value - 1) / segmentSize;
        // The record may begin in the segment before; the spool's chain picks the timeline replayed, as the stream's does.
        var segments = spool.WalFrom(new Lsn((holding == 0 ? 0 : holding - 1) * segmentSize), segmentSize).Segments
            .TakeWhile(s => WalSegmentName.TryParse(s, out var name) && name.SegmentNumber(segmentSize) <= holding)
            .ToList();
        if (segments.Count == 0) return fallback;
        try
        {
            using var reader = new WalRecordReader(segments.Select(s => WalSegmentSource.FromFile(spool.PathOf(s))).ToList());
            var last = Lsn.Invalid;
            while (reader.MoveNext() && reader.Current.Lsn < position) last = reader.Current.Lsn;
            return last.IsValid ? last : fallback;
        }
        catch (Exception e) when (e is WalFormatException or IOException)
        {
            return fallback;
        }
    }

    /// <summary>The newest base backup in BASE_BACKUP_DIR, as local files (an sftp source downloads it once, until released).</summary>
    public Task<BaseBackup> NewestBackup(CancellationToken cancellationToken) => options.BaseBackups.NewestAsync(cancellationToken);

    /// <summary>
    /// Copies <paramref name="needing"/> as of a point the restore reaches; the catalog read there covers
    /// <paramref name="all"/> synced tables. A wait (not enough WAL yet) or a failure is not thrown: it is
    /// recorded once per cause (one FAILED row per table, the table's status detail), and the next attempt
    /// waits for a growing pause with jitter, so a cause that persists neither floods the log nor restores
    /// the base backup over and over.
    /// </summary>
    public async Task<BootstrapOutcome> BootstrapAsync(IReadOnlyList<TableSyncState> all, IReadOnlyList<TableSyncState> needing, CancellationToken cancellationToken)
    {
        if (!_retry.MayAttempt(DateTimeOffset.UtcNow))
            return new BootstrapOutcome(BootstrapResult.Deferred, _retry.Cause, false, _retry.NotBefore);

        BootstrapOutcome outcome;
        // The restore replays spooled segments older than the stream's restart point; the stream must not trim them meanwhile.
        using (fetcher.Spool.HoldOlderSegments())
            outcome = await AttemptWithHoldAsync(all, needing, cancellationToken).ConfigureAwait(false);
        await TrimSpoolAsync(cancellationToken).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>
    /// Trims the spool to the stream's restart point as the database has it: what the stream recorded while the bootstrap
    /// held the spool could not be trimmed then, and a stream that is caught up records nothing more until new WAL comes.
    /// Best effort: the stream's next record trims as well.
    /// </summary>
    private async Task TrimSpoolAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            if (await StreamStanding.ReadAsync(connection, cancellationToken).ConfigureAwait(false) is { RestartSegment: { } restart })
                fetcher.Spool.RemoveBefore(restart);
        }
        catch (Exception e) when (e is NpgsqlException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // Left for the stream's next record.
        }
    }

    private async Task<BootstrapOutcome> AttemptWithHoldAsync(IReadOnlyList<TableSyncState> all, IReadOnlyList<TableSyncState> needing, CancellationToken cancellationToken)
    {
        // Attempts that repeat a known cause keep their routine steps out of the log.
        var progress = _retry.Repeating ? null : options.Progress;
        BaseBackup? backup = null;
        var refused = new List<RefusedTable>();
        var copied = new HashSet<Tables.TableName>();
        LiveProgress.Begin(needing.Select(t => t.Table));
        try
        {
            backup = await NewestBackup(cancellationToken).ConfigureAwait(false);
            var wait = await AttemptAsync(backup, all, needing, refused, copied, progress, cancellationToken).ConfigureAwait(false);
            if (wait is not null) return await RecordAsync(BootstrapResult.Waiting, wait, backup, needing, cancellationToken).ConfigureAwait(false);
            if (_retry.Repeating) options.Progress?.Report($"bootstrap succeeded after {_retry.Attempts} earlier attempt(s) met: {_retry.Cause}");
            _retry.Succeeded();
            return refused.Count == 0 ? BootstrapOutcome.Copied : BootstrapOutcome.Copied with { Refused = refused };
        }
        catch (WalNotYetArchivedException e)
        {
            return await RecordAsync(BootstrapResult.Waiting, e.Message, backup, Unsettled(needing, refused, copied), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return await RecordAsync(BootstrapResult.Failed, Describe(e), backup, Unsettled(needing, refused, copied), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            LiveProgress.End();
        }
    }

    /// <summary>
    /// The tables of <paramref name="needing"/> an attempt that ended in an error left waiting for their copy: tables copied
    /// (each commits on its own) or refused before the error are settled and get no FAILED row for it.
    /// </summary>
    private static List<TableSyncState> Unsettled(IReadOnlyList<TableSyncState> needing, List<RefusedTable> refused, HashSet<Tables.TableName> copied)
    {
        lock (copied) return needing.Where(t => !copied.Contains(t.Table) && refused.All(r => r.Table != t.Table)).ToList();
    }

    /// <summary>
    /// Returns null when the tables were copied, else why the bootstrap has to wait. Tables production lacks are
    /// marked failed instead of copied; each is added to <paramref name="refused"/> with why. The tables are copied side by
    /// side (<see cref="SyncOptions.BootstrapParallelism"/> at a time), each committed on its own and added to
    /// <paramref name="copied"/> (under its lock) once committed.
    /// </summary>
    private async Task<string?> AttemptAsync(BaseBackup backup, IReadOnlyList<TableSyncState> all, IReadOnlyList<TableSyncState> needing, List<RefusedTable> refused,
        HashSet<Tables.TableName> copied, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        if (!WalSegmentName.TryParse(backup.Label.StartSegment, out var startName))
            throw new InvalidDataException($"base backup {backup.Directory} names an unreadable start segment '{backup.Label.StartSegment}'");
        try
        {
            await fetcher.FetchFromAsync(backup.Label.StartSegment, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e) when (!fetcher.Spool.Contains(backup.Label.StartSegment))
        {
            return $"{e.Message}; waiting for production to archive it";
        }

        var (spooled, available, lastStart) = Spooled();
        Lsn target;
        if (await BackupEnd.FindAsync(backup, fetcher.Archive, options.SegmentSize, cancellationToken).ConfigureAwait(false) is var (end, endSource))
        {
            // The backup is consistent at its end: that much WAL is enough, more is replayed when there is more.
            if (end > available) (spooled, available, lastStart) = await CaughtUpWithArchiveAsync().ConfigureAwait(false);
            if (end > available)
            {
                return $"base backup {backup.Name} is consistent only at {end} ({endSource}), but the archive's WAL from its start ends at {available}; " +
                    $"waiting for production to archive segment {WalSegmentName.OfEnd(startName.Timeline, end, options.SegmentSize)}";
            }

            target = end > lastStart ? end : lastStart;
        }
        else
        {
            // Nothing says where the backup ends: a segment after its start proves its WAL is all there.
            bool EndsAtStart() => spooled.Count < 2 || string.CompareOrdinal(spooled[^1], backup.Label.StartSegment) <= 0;
            if (EndsAtStart()) (spooled, available, lastStart) = await CaughtUpWithArchiveAsync().ConfigureAwait(false);
            if (EndsAtStart())
            {
                return $"base backup {backup.Name} needs WAL after its start segment {backup.Label.StartSegment}, and neither " +
                    $"{BackupEnd.HistoryFileName(backup.Label, options.SegmentSize)} in the archive nor a backup_manifest says where its WAL ends; " +
                    "waiting for production to archive the next segment";
            }

            target = lastStart;
        }

        (IReadOnlyList<string> Segments, Lsn Available, Lsn LastStart) Spooled()
        {
            var segments = fetcher.Spool.Segments();
            var last = segments.Count > 0 && WalSegmentName.TryParse(segments[^1], out var lastName) ? lastName.StartLsn(options.SegmentSize) : Lsn.Invalid;
            return (segments, ContiguousWalEnd(segments, startName), last);
        }

        // The archive may hold WAL the spool does not have yet (the watcher's scan is still fetching it): that is no
        // reason to wait for production, so it is fetched here before the attempt is given up.
        async Task<(IReadOnlyList<string>, Lsn, Lsn)> CaughtUpWithArchiveAsync()
        {
            await fetcher.FetchNewAsync(null, startName.Timeline, cancellationToken).ConfigureAwait(false);
            return Spooled();
        }

        await using var restore = await TemporaryRestore.StartAsync(new TemporaryRestoreOptions
        {
            Binaries = options.Binaries,
            Account = options.Account,
            StateDirectory = options.Settings.StateDir,
            Backup = backup,
            WalDirectory = fetcher.Spool.Directory,
            TargetLsn = target,
            AvailableWalEnd = available,
            Progress = progress,
            LiveProgress = LiveProgress,
        }, cancellationToken).ConfigureAwait(false);

        var waiting = await ReachCompletePointAsync(restore, backup, progress, cancellationToken).ConfigureAwait(false);
        if (waiting is not null) return waiting;
        var position = restore.Snapshot.ReplayLsn;
        await using var source = await OpenProductionDatabaseAsync(restore, backup, cancellationToken).ConfigureAwait(false);
        // The replay position is where the last replayed record ends: at a segment boundary that is the end of the
        // segment before, the last one the copy contains (the next may not be archived yet).
        var archiveFile = WalSegmentName.OfEnd(startName.Timeline, position, options.SegmentSize);

        // A listed table production lacks concerns that table alone: it is refused here (state failed, a FAILED row),
        // and the catalog is read and the copy taken for the others. Left in, it would fail every bootstrap (and
        // restore again each time).
        // So is one production has in a form that cannot be synced (unlogged, no key to match rows on).
        var problems = new Dictionary<Tables.TableName, string>();
        foreach (var table in await MissingInProductionAsync(source, all.Select(t => t.Table).ToList(), cancellationToken).ConfigureAwait(false))
        {
            problems[table] = $"production's database \"{source.Database}\" in base backup {backup.Name} has no table {table} at {position}; " +
                $"create it there (then run: datasync resync {table}) or run: datasync remove-tables {table}";
        }

        var candidates = all.Select(t => t.Table).Where(t => !problems.ContainsKey(t)).ToList();
        foreach (var group in (await ProductionCatalogReader.UnsyncableAsync(source, candidates, cancellationToken).ConfigureAwait(false)).GroupBy(p => p.Table))
        {
            problems[group.Key] = $"cannot sync from production's database \"{source.Database}\" in base backup {backup.Name} at {position}: " +
                $"{string.Join("; ", group.Select(p => p.Problem))} (once fixed there, run: datasync resync {group.Key})";
        }

        var refusing = all.Where(t => problems.ContainsKey(t.Table) && t.State is not (TableState.Paused or TableState.Cleared or TableState.Failed)).ToList();
        var present = all.Where(t => !problems.ContainsKey(t.Table)).Select(t => t.Table).ToList();
        needing = needing.Where(t => !problems.ContainsKey(t.Table)).ToList();

        if (refusing.Count > 0)
        {
            // Committed on their own: a refused table's state does not hang on the other tables' copies.
            await using var connection = await ApplySession.OpenAsync(local, options.Settings, cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            foreach (var table in refusing)
            {
                var cause = problems[table.Table];
                var detail = string.Create(CultureInfo.InvariantCulture,
                    $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC; table {table.Table}; base backup {backup.Name}; archive file {archiveFile}; LSN {position}: {cause}");
                await SyncState.FailAsync(connection, table.Table, detail, cancellationToken).ConfigureAwait(false);
                await SyncState.LogAsync(connection, table.Table, "FAILED", 0, default, archiveFile, detail, null, position, position, cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            refused.AddRange(refusing.Select(t => new RefusedTable(t.Table, problems[t.Table])));
        }

        if (needing.Count == 0)
        {
            // Nothing left to copy: the stream keeps its point and catalog.
            options.BaseBackups.Release(backup);
            return null;
        }

        var (catalog, locations) = await ProductionCatalogReader.ReadAsync(source, present, position, cancellationToken).ConfigureAwait(false);
        var checkpoint = CheckpointOfCopy(fetcher.Spool, options.SegmentSize, position);
        var install = new StreamInstall(backup.Label.StartLsn, backup.Label.StartSegment, position, CatalogJson.Serialize(catalog), JsonSerializer.Serialize(locations, Json));
        // Largest first: with the copies running side by side, the longest one starts at once instead of last.
        var ordered = await LargestFirstAsync(source, needing, cancellationToken).ConfigureAwait(false);
        LiveProgress.Enter(BootstrapPhase.Copying);
        await Parallel.ForEachAsync(ordered, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.BootstrapParallelism), CancellationToken = cancellationToken },
            async (table, token) =>
            {
                await CopyTableAsync(restore, table, backup, position, checkpoint, archiveFile, install, token).ConfigureAwait(false);
                lock (copied) copied.Add(table.Table);
            }).ConfigureAwait(false);
        LiveProgress.Enter(BootstrapPhase.Finishing);
        options.BaseBackups.Release(backup);
        return null;
    }

    /// <summary>What every table's transaction sets on the stream row: where decoding restarts and the catalog read at the copy's point.</summary>
    private sealed record StreamInstall(Lsn Restart, string RestartSegment, Lsn CatalogLsn, string CatalogJson, string LocationsJson);

    /// <summary>
    /// Copies one table in its own local transaction over its own connection to the paused restore: empties it, copies the
    /// rows, sets its checkpoint to the copy's point with its BOOTSTRAP row, and moves the stream back to the backup's start
    /// with the catalog read there. Every table's transaction installs the same stream point, so each commits on its own
    /// (and a crash leaves every table either copied whole with the stream able to reach it, or still waiting for its copy).
    /// The stream row is updated last, just before the commit, so the transactions queue on its lock only briefly.
    /// </summary>
    private async Task CopyTableAsync(TemporaryRestore restore, TableSyncState table, BaseBackup backup, Lsn position, Lsn checkpoint, string archiveFile, StreamInstall install,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        await using var source = await OpenProductionDatabaseAsync(restore, backup, cancellationToken).ConfigureAwait(false);
        await using var connection = await ApplySession.OpenAsync(local, options.Settings, cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // A crash before this commit reaches the disk loses the copy and its checkpoint together, and the table is copied
        // again: there is nothing to wait for at the commit.
        await using (var relaxed = new NpgsqlCommand("SET LOCAL synchronous_commit = off", connection))
            await relaxed.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        var truncated = await TableChangeApplier.TruncateAsync(connection, [table.Table], cancellationToken).ConfigureAwait(false);
        // An ordinary table takes COPY FREEZE once truncated in the same transaction (a partitioned or foreign one refuses it).
        var freeze = truncated && await TableCopier.IsPlainTableAsync(connection, table.Table, cancellationToken).ConfigureAwait(false);
        // Built once over the copied rows instead of row by row (the TRUNCATE holds the table's lock for the drop).
        var deferred = freeze ? await DeferredIndexes.DropAsync(connection, table.Table, cancellationToken).ConfigureAwait(false) : null;
        var columns = await TableCopier.CopyableColumnsAsync(source, table.Table, cancellationToken).ConfigureAwait(false);
        var meter = LiveProgress.Copying(table.Table, await TableCopier.EstimateRowsAsync(source, table.Table, cancellationToken).ConfigureAwait(false));
        var rows = await TableCopier.CopyAsync(source, connection, table.Table, columns, freeze, cancellationToken, meter.Copied).ConfigureAwait(false);
        var copiedIn = clock.Elapsed;
        if (deferred is not null) await deferred.RebuildAsync(connection, cancellationToken).ConfigureAwait(false);
        var indexedIn = clock.Elapsed - copiedIn;
        await SyncState.SetTableAsync(connection, table.Table, TableState.Syncing, checkpoint, archiveFile, 0, cancellationToken).ConfigureAwait(false);
        await SyncState.LogAsync(connection, table.Table, "BOOTSTRAP", rows, default, $"base backup {backup.Name} + WAL to {archiveFile}", null,
            clock.ElapsedMilliseconds, backup.Label.StartLsn, position, cancellationToken).ConfigureAwait(false);
        // The stream resumes no later than the backup's start, so transactions open at the copy's position
        // are seen whole, and it decodes with the catalog read here, which knows the new tables.
        await SyncState.InstallBootstrapAsync(connection, install.Restart, install.RestartSegment, install.CatalogLsn, install.CatalogJson, install.LocationsJson,
            cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        meter.Done();
        LiveProgress.Copied(table.Table);
        var indexes = deferred is { Count: > 0 }
            ? string.Create(CultureInfo.InvariantCulture, $" (rows in {copiedIn.TotalSeconds:F1} s, then {deferred.Count} index(es) built in {indexedIn.TotalSeconds:F1} s)")
            : "";
        options.Progress?.Report(string.Create(CultureInfo.InvariantCulture,
            $"bootstrapped {table.Table}: {rows} rows copied as of {position} in {clock.Elapsed.TotalSeconds:F1} s{indexes}{(freeze ? " (frozen)" : "")}"));
    }

    /// <summary><paramref name="tables"/> by their size in production (at the restore's point), largest first.</summary>
    private static async Task<IReadOnlyList<TableSyncState>> LargestFirstAsync(NpgsqlConnection source, IReadOnlyList<TableSyncState> tables, CancellationToken cancellationToken)
    {
        if (tables.Count < 2) return tables;
        await using var command = new NpgsqlCommand("SELECT coalesce(pg_table_size(to_regclass(name)), 0) FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i) ORDER BY i", source);
        command.Parameters.AddWithValue(tables.Select(t => t.Table.Quoted).ToArray());
        var sizes = new List<long>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) sizes.Add(reader.GetInt64(0));
        return tables.Select((t, i) => (t, i)).OrderByDescending(x => sizes[x.i]).ThenBy(x => x.i).Select(x => x.t).ToList();
    }

    /// <summary>The production database (PROD_DB_NAME) in the restore; when it is not there, an error that lists the databases that are.</summary>
    private async Task<NpgsqlConnection> OpenProductionDatabaseAsync(TemporaryRestore restore, BaseBackup backup, CancellationToken cancellationToken)
    {
        var database = options.Settings.ProductionDatabase;
        try
        {
            return await ProductionLocale.OpenAsync(name => restore.OpenAsync(name, cancellationToken), database).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            var present = await restore.DatabasesAsync(cancellationToken).ConfigureAwait(false);
            var why = options.Settings.ProdDbName is null
                ? $"PROD_DB_NAME is not set, so the local database's name (PG_DB_NAME \"{database}\") was looked for"
                : $"PROD_DB_NAME is \"{database}\"";
            throw new InvalidOperationException(
                $"production database \"{database}\" is not in base backup {backup.Name}: {why}. The backup holds the databases " +
                $"{string.Join(", ", present.Where(d => d != "template1").Select(d => $"\"{d}\""))}. Set PROD_DB_NAME in the configuration file " +
                "to the one that holds the synced tables and restart the daemon", e);
        }
    }

    /// <summary>The tables among <paramref name="tables"/> that production's database does not have (at the restore's point).</summary>
    private static async Task<IReadOnlyList<Tables.TableName>> MissingInProductionAsync(NpgsqlConnection source, IReadOnlyList<Tables.TableName> tables,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT wanted.i FROM unnest($1::text[]) WITH ORDINALITY AS wanted(name, i) WHERE to_regclass(wanted.name) IS NULL", source);
        command.Parameters.AddWithValue(tables.Select(t => t.Quoted).ToArray());
        var missing = new List<Tables.TableName>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) missing.Add(tables[(int)reader.GetInt64(0) - 1]);
        return missing;
    }

    /// <summary>Where the WAL in the spool that runs without a gap from the backup's start segment ends.</summary>
    private Lsn ContiguousWalEnd(IReadOnlyList<string> spooled, WalSegmentName start)
    {
        var numbers = spooled.Select(n => WalSegmentName.TryParse(n, out var s) ? s.SegmentNumber(options.SegmentSize) : ulong.MaxValue).ToHashSet();
        var next = start.SegmentNumber(options.SegmentSize);
        while (numbers.Contains(next)) next++;
        return new Lsn(next * options.SegmentSize);
    }

    /// <summary>Counts the attempt against its cause; the first time a cause is met it is logged as one FAILED row per table.</summary>
    private async Task<BootstrapOutcome> RecordAsync(BootstrapResult result, string message, BaseBackup? backup, IReadOnlyList<TableSyncState> needing, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var isNew = _retry.Record(message, now);
        LiveProgress.Ended(needing.Select(t => t.Table), result == BootstrapResult.Failed, message);
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"bootstrap {(result == BootstrapResult.Waiting ? "waiting" : "failing")} since {_retry.Since:yyyy-MM-dd HH:mm:ss} UTC, {_retry.Attempts} attempt(s), " +
            $"next not before {_retry.NotBefore:HH:mm:ss} UTC: {_retry.Cause}");
        try
        {
            await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            foreach (var table in needing)
            {
                await using (var status = new NpgsqlCommand("""
                    INSERT INTO datasync_table_state (table_name, state, error_detail) VALUES ($1, $2, $3)
                    ON CONFLICT (table_name) DO UPDATE SET error_detail = excluded.error_detail, updated_at = now()
                    WHERE datasync_table_state.state IN ('new', 'resync-requested')
                    """, connection))
                {
                    status.Parameters.AddWithValue(table.Table.ToString());
                    status.Parameters.AddWithValue(table.State.ToText());
                    status.Parameters.AddWithValue(detail);
                    await status.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                if (!isNew)
                {
                    // The same cause again: one more on its row (the newest FAILED row of a table still waiting for its copy).
                    await using var bump = new NpgsqlCommand("""
                        UPDATE data_sync_logs SET occurrences = occurrences + 1, last_occurred_at = now()
                        WHERE id = (SELECT id FROM data_sync_logs WHERE table_name = $1 AND status = 'FAILED' ORDER BY sync_time DESC LIMIT 1)
                        """, connection);
                    bump.Parameters.AddWithValue(table.Table.ToString());
                    await bump.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var archiveFile = backup?.Label.StartSegment;
                var row = string.Create(CultureInfo.InvariantCulture,
                    $"{now:yyyy-MM-dd HH:mm:ss} UTC; table {table.Table}; base backup {backup?.Name ?? "(none found)"}; archive file {archiveFile ?? "-"}; " +
                    $"LSN {(backup is null ? "-" : backup.Label.StartLsn.ToString())}: {message}");
                await SyncState.LogAsync(connection, table.Table, "FAILED", 0, default, archiveFile, row, null, backup?.Label.StartLsn, backup?.Label.StartLsn, cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        catch (NpgsqlException e)
        {
            // The local database is down too; the caller still learns the cause, and the next attempt records it.
            options.Progress?.Report($"could not record the bootstrap's state in the local database: {e.Message}");
        }

        return new BootstrapOutcome(result, message, isNew, _retry.NotBefore);
    }

    /// <summary>An error's message with those of its causes that add something (a wrapper may drop the server's reason otherwise).</summary>
    public static string Describe(Exception error)
    {
        var parts = new List<string>();
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (!parts.Any(p => p.Contains(e.Message, StringComparison.Ordinal))) parts.Add(e.Message);
        }

        return string.Join(": ", parts);
    }
}
