using System.Diagnostics;
using System.Text.Json;
using DataSync.Core.Apply;
using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// One pass of the sync, as plain code the daemon's actors drive on every tick: fetch new segments into
/// the spool, bootstrap tables that need it from the newest base backup, then decode the WAL from the
/// stream's restart point and apply every committed transaction after each table's checkpoint, in
/// commit order, in one local transaction with the checkpoints and the log rows. A conflict pauses
/// only its table; the batch is redone without it.
/// </summary>
public sealed class SyncEngine(SyncOptions options, NpgsqlDataSource local)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    private readonly ArchiveFetcher _fetcher = new(options.Archive, new WalSpool(options.SpoolDirectory), options.SegmentSize);
    private readonly SpillStore _spill = NewSpillStore(options.SpillDirectory);

    private WalSpool Spool => _fetcher.Spool;

    /// <summary>Rows applied since this engine was made (the daemon's "records synced").</summary>
    public long RowsApplied { get; private set; }

    public async Task<SyncCycleResult> RunCycleAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await RunCycleCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (WalFormatException e)
        {
            // A corrupt or unreadable segment: every table learns which file and where; nothing past it is applied.
            await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await LogOnceAsync(await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false), e.FileName, e.Message, cancellationToken).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<SyncCycleResult> RunCycleCoreAsync(CancellationToken cancellationToken)
    {
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var tables = await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false);
        var stream = await SyncState.ReadStreamAsync(connection, cancellationToken).ConfigureAwait(false);
        var fetch = await FetchAsync(tables, stream, cancellationToken).ConfigureAwait(false);
        var (fetched, missing) = (fetch.Fetched, fetch.MissingSegment);
        if (missing is not null)
        {
            await LogOnceAsync(tables, missing, $"WAL segment {missing} is missing from the archive {options.Archive.Description} while later segments exist; " +
                "nothing past it is applied until it is put back", cancellationToken).ConfigureAwait(false);
        }

        if (fetch is { Unfollowable: { } fork, UnfollowableMessage: { } forkMessage })
            await LogOnceAsync(tables, $"{fork.Timeline:X8}.history", forkMessage, cancellationToken).ConfigureAwait(false);

        var bootstrapped = new List<string>();
        var needing = tables.Where(t => t.NeedsBootstrap).ToList();
        if (needing.Count > 0 && await BootstrapAsync(tables, needing, stream, cancellationToken).ConfigureAwait(false))
        {
            bootstrapped.AddRange(needing.Select(t => t.Table.ToString()));
            tables = await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false);
            stream = await SyncState.ReadStreamAsync(connection, cancellationToken).ConfigureAwait(false);
        }

        var (transactions, rows, paused) = stream is null
            ? (0L, 0L, (IReadOnlyList<string>)[])
            : await StreamAsync(tables, stream, cancellationToken).ConfigureAwait(false);
        return new SyncCycleResult(fetched, bootstrapped, transactions, rows, missing, paused);
    }

    /// <summary>Spill files left by a process that died mid-transaction are removed once, when an engine starts.</summary>
    private static SpillStore NewSpillStore(string directory)
    {
        var spill = new SpillStore(directory);
        spill.SweepOrphans();
        return spill;
    }

    /// <summary>Logs an archive problem as a FAILED row for each synced table, once: not again while it is the table's latest log row.</summary>
    private async Task LogOnceAsync(IReadOnlyList<TableSyncState> tables, string archiveFile, string cause, CancellationToken cancellationToken)
    {
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var table in tables)
        {
            await using var latest = new NpgsqlCommand(
                "SELECT status = 'FAILED' AND archive_ref = $2 FROM data_sync_logs WHERE table_name = $1 ORDER BY sync_time DESC LIMIT 1", connection);
            latest.Parameters.AddWithValue(table.Table.ToString());
            latest.Parameters.AddWithValue(archiveFile);
            if (await latest.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true) continue;
            var detail = $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC; table {table.Table}; archive file {archiveFile}; LSN {table.Checkpoint}: {cause}";
            await SyncState.LogAsync(connection, table.Table, "FAILED", 0, default, archiveFile, detail, null, null, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Brings new archive segments into the spool, in order, stopping at a gap.</summary>
    private async Task<FetchResult> FetchAsync(IReadOnlyList<TableSyncState> tables, StreamState? stream, CancellationToken cancellationToken)
    {
        // Nothing spooled yet: start where the stream resumes, or at the newest base backup.
        Lsn? start = null;
        uint timeline = 1;
        if (stream is not null)
        {
            start = stream.RestartLsn;
            if (stream.LastSegment is { } lastSegment && WalSegmentName.TryParse(lastSegment, out var lastName)) timeline = lastName.Timeline;
        }
        else if (tables.Count > 0 && Spool.Segments().Count == 0)
        {
            var backup = NewestBackup();
            start = backup.Label.StartLsn;
            timeline = backup.Label.Timeline;
        }

        return await _fetcher.FetchNewAsync(start, timeline, cancellationToken).ConfigureAwait(false);
    }

    private BaseBackup NewestBackup()
    {
        var backups = BaseBackup.FindAll(options.Settings.BaseBackupDir);
        return backups.Count > 0 ? backups[0] : throw new InvalidOperationException($"no base backup found in BASE_BACKUP_DIR '{options.Settings.BaseBackupDir}'");
    }

    /// <summary>
    /// Restores the newest base backup, lets it replay the spool and pause, reads the catalog there and
    /// copies the tables that need it. Returns false when there is not yet enough WAL after the backup.
    /// </summary>
    private async Task<bool> BootstrapAsync(IReadOnlyList<TableSyncState> all, IReadOnlyList<TableSyncState> needing, StreamState? stream, CancellationToken cancellationToken)
    {
        var backup = NewestBackup();
        if (!WalSegmentName.TryParse(backup.Label.StartSegment, out var startName))
            throw new InvalidDataException($"base backup {backup.Directory} names an unreadable start segment '{backup.Label.StartSegment}'");
        await _fetcher.FetchFromAsync(backup.Label.StartSegment, cancellationToken).ConfigureAwait(false);
        var spooled = Spool.Segments();

        if (spooled.Count < 2 || string.CompareOrdinal(spooled[^1], backup.Label.StartSegment) <= 0)
        {
            options.Progress?.Report($"bootstrap waits for WAL after base backup {backup.Name} (archive ends at {spooled[^1]})");
            return false;
        }

        WalSegmentName.TryParse(spooled[^1], out var lastName);
        var target = lastName.StartLsn(options.SegmentSize);
        await using var restore = await TemporaryRestore.StartAsync(new TemporaryRestoreOptions
        {
            Binaries = options.Binaries,
            Account = options.Account,
            StateDirectory = options.Settings.StateDir,
            Backup = backup,
            WalDirectory = Spool.Directory,
            TargetLsn = target,
            Progress = options.Progress,
        }, cancellationToken).ConfigureAwait(false);

        var position = restore.Snapshot.ReplayLsn;
        await using var source = await restore.OpenAsync(options.Settings.ProductionDatabase, cancellationToken).ConfigureAwait(false);
        var (catalog, locations) = await ProductionCatalogReader.ReadAsync(source, all.Select(t => t.Table).ToList(), position, cancellationToken).ConfigureAwait(false);
        var archiveFile = WalSegmentName.Format(startName.Timeline, position.Value / options.SegmentSize, options.SegmentSize);

        foreach (var table in needing)
        {
            var clock = Stopwatch.StartNew();
            await using var connection = await OpenApplyConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await TableChangeApplier.TruncateAsync(connection, [table.Table], cancellationToken).ConfigureAwait(false);
            var columns = await TableCopier.CopyableColumnsAsync(source, table.Table, cancellationToken).ConfigureAwait(false);
            var rows = await TableCopier.CopyAsync(source, connection, table.Table, columns, cancellationToken).ConfigureAwait(false);
            await SyncState.SetTableAsync(connection, table.Table, TableSyncState.Syncing, position, archiveFile, 0, cancellationToken).ConfigureAwait(false);
            await SyncState.LogAsync(connection, table.Table, "BOOTSTRAP", rows, default, $"base backup {backup.Name} + WAL to {archiveFile}", null,
                clock.ElapsedMilliseconds, backup.Label.StartLsn, position, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            options.Progress?.Report($"bootstrapped {table.Table}: {rows} rows copied as of {position}");
        }

        await using (var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false))
        {
            // The stream resumes no later than the backup's start, so transactions open at the copy's
            // position are seen whole; the first bootstrap also sets the catalog the stream decodes with.
            var restart = stream is null ? backup.Label.StartLsn : (stream.RestartLsn < backup.Label.StartLsn ? stream.RestartLsn : backup.Label.StartLsn);
            await SyncState.WriteStreamAsync(connection, new StreamState(
                restart, position, CatalogJson.Serialize(catalog), JsonSerializer.Serialize(locations, Json), stream?.LastSegment), cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Decodes from the restart point through the spool and applies what each table has not seen yet.</summary>
    private async Task<(long Transactions, long Rows, IReadOnlyList<string> Paused)> StreamAsync(IReadOnlyList<TableSyncState> tables, StreamState stream, CancellationToken cancellationToken)
    {
        var paused = new List<string>();
        while (true)
        {
            var syncing = tables.Where(t => t.State == TableSyncState.Syncing && !paused.Contains(t.Table.ToString())).ToDictionary(t => t.Table.ToString());
            if (syncing.Count == 0) return (0, 0, paused);
            try
            {
                var (transactions, rows) = await ApplyStreamAsync(syncing, stream, cancellationToken).ConfigureAwait(false);
                return (transactions, rows, paused);
            }
            catch (TablePausedException e)
            {
                // Nothing of the batch was committed; the table is paused and the batch is redone without it.
                await SyncState.PauseAsync(local, e.Table, e.ArchiveFile, e.Lsn, e.Cause, cancellationToken).ConfigureAwait(false);
                options.Progress?.Report($"paused {e.Table}: {e.Cause}");
                paused.Add(e.Table.ToString());
            }
        }
    }

    private async Task<(long Transactions, long Rows)> ApplyStreamAsync(Dictionary<string, TableSyncState> syncing, StreamState stream, CancellationToken cancellationToken)
    {
        var catalog = CatalogJson.Deserialize(stream.CatalogJson);
        var locations = JsonSerializer.Deserialize<CatalogLocations>(stream.LocationsJson, Json)!;
        var wal = Spool.WalFrom(stream.RestartLsn, options.SegmentSize);
        if (wal.Segments.Count == 0) return (0, 0);

        using var decoder = new ChangeDecoder(catalog, locations, wal.Sources(), stream.RestartLsn,
            new ReassemblerOptions { MemoryLimitBytes = options.MemoryLimitBytes, Spill = _spill }, wal.ReaderOptions);

        await using var connection = await OpenApplyConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        var appliers = syncing.Values.ToDictionary(t => t.Table.ToString(), t => new TableChangeApplier(t.Table, options.Settings.OnConflict));
        foreach (var applier in appliers.Values) applier.Begin();
        var lastCommit = new Dictionary<string, Lsn>();
        var firstCommit = new Dictionary<string, Lsn>();
        long transactions = 0;
        string SegmentOf(Lsn lsn) => wal.FileOf(lsn);

        foreach (var committed in decoder.Transactions())
        {
            if (committed.StartedBeforeDecoding)
            {
                // It began before the WAL decoded here, so its changes are unknown (it comes without any):
                // every table that has not seen its commit may be missing them, and says so.
                var exposed = syncing.Values.Where(t => committed.CommitLsn > t.Checkpoint).ToList();
                if (exposed.Count > 0)
                {
                    throw new TablePausedException(exposed[0].Table, SegmentOf(committed.CommitLsn), committed.CommitLsn,
                        $"transaction {committed.Xid} began before the WAL this sync decodes from and committed after the copy, so its changes are unknown; run: datasync resync {exposed[0].Table}");
                }

                continue;
            }

            var touched = false;
            foreach (var change in committed.Changes)
            {
                switch (change)
                {
                    case RowChange row when Wants(row.Table, committed.CommitLsn) is { } name:
                        await Guarded(name, committed.CommitLsn, () => appliers[name].AddAsync(connection, row, cancellationToken)).ConfigureAwait(false);

                        Mark(name);
                        break;
                    case TruncateEvent truncate:
                        var names = truncate.Tables.Select(t => Wants(t, committed.CommitLsn)).OfType<string>().ToList();
                        if (names.Count == 0) break;
                        foreach (var name in names)
                            await Guarded(name, committed.CommitLsn, () => appliers[name].FlushAsync(connection, cancellationToken)).ConfigureAwait(false);
                        await TableChangeApplier.TruncateAsync(connection, names.Select(n => syncing[n].Table).ToList(), cancellationToken).ConfigureAwait(false);
                        foreach (var name in names) Mark(name);
                        break;
                    case SchemaChangedEvent schema when Wants(schema.Table, committed.CommitLsn) is { } name:
                        throw new TablePausedException(syncing[name].Table, SegmentOf(schema.Lsn), schema.Lsn,
                            $"production changed the table's definition ({schema.What}); apply the same DDL to the local table, then run: datasync resync {name}");
                }
            }

            if (touched) transactions++;

            void Mark(string name)
            {
                touched = true;
                lastCommit[name] = committed.CommitLsn;
                firstCommit.TryAdd(name, committed.CommitLsn);
            }
        }

        // Every applied transaction is whole; the stream resumes before the oldest one still open.
        var restart = decoder.Reassembler.RestartLsn ?? decoder.EndLsn;
        if (restart < stream.RestartLsn) restart = stream.RestartLsn;
        long rows = 0;
        var lastSegment = wal.Segments[^1];
        foreach (var (name, applier) in appliers)
        {
            await Guarded(name, lastCommit.GetValueOrDefault(name), () => applier.FlushAsync(connection, cancellationToken)).ConfigureAwait(false);
            if (!lastCommit.TryGetValue(name, out var commit)) continue;
            var counts = applier.Counts;
            rows += counts.Total;
            var files = SegmentOf(firstCommit[name]) == SegmentOf(commit) ? SegmentOf(commit) : $"{SegmentOf(firstCommit[name])}..{SegmentOf(commit)}";
            await SyncState.SetTableAsync(connection, syncing[name].Table, TableSyncState.Syncing, commit, SegmentOf(commit), counts.Total, cancellationToken).ConfigureAwait(false);
            await SyncState.LogAsync(connection, syncing[name].Table, "SUCCESS", counts.Total, counts, files, null, clock.ElapsedMilliseconds,
                firstCommit[name], commit, cancellationToken).ConfigureAwait(false);
        }

        // The catalog travels with the restart point: files replaced by TRUNCATE or VACUUM FULL are
        // what the next decoder must recognise.
        var (current, currentLocations) = decoder.Reassembler.CurrentCatalog();
        await SyncState.WriteStreamAsync(connection, stream with
        {
            RestartLsn = restart,
            CatalogJson = CatalogJson.Serialize(current),
            LocationsJson = currentLocations is null ? stream.LocationsJson : JsonSerializer.Serialize(currentLocations, Json),
            LastSegment = lastSegment,
        }, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        RowsApplied += rows;

        // Segments wholly before the restart point will not be read again.
        Spool.RemoveBefore(SegmentOf(restart));
        if (rows > 0) options.Progress?.Report($"applied {transactions} transaction(s), {rows} row change(s), up to {lastSegment}");
        return (transactions, rows);

        // A change that does not fit pauses its table; the conflict may surface when a round is merged, later than the change.
        async Task Guarded(string name, Lsn fallback, Func<Task> work)
        {
            try
            {
                await work().ConfigureAwait(false);
            }
            catch (ApplyConflictException e)
            {
                var lsn = e.Lsn.IsValid ? e.Lsn : fallback;
                throw new TablePausedException(syncing[name].Table, SegmentOf(lsn), lsn,
                    e.Detail + $"; was the local copy changed by hand? run: datasync resync {name}");
            }
        }

        string? Wants(TableDescriptor table, Lsn commit)
        {
            var name = new TableName(table.Schema, table.Name).ToString();
            return syncing.TryGetValue(name, out var state) && commit > state.Checkpoint ? name : null;
        }
    }

    private Task<NpgsqlConnection> OpenApplyConnectionAsync(CancellationToken cancellationToken) =>
        ApplySession.OpenAsync(local, options.Settings, cancellationToken);

    /// <summary>A table cannot take the batch: pause it, redo the batch without it.</summary>
    private sealed class TablePausedException(TableName table, string archiveFile, Lsn lsn, string cause) : Exception(cause)
    {
        public TableName Table { get; } = table;
        public string ArchiveFile { get; } = archiveFile;
        public Lsn Lsn { get; } = lsn;
        public string Cause { get; } = cause;
    }
}
