using System.Diagnostics;
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

    /// <summary>How long a bootstrap replays further, waiting for transactions that began before the backup to end, before it gives up until the next pass.</summary>
    public TimeSpan OpenTransactionPatience { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Moves the paused restore on until no transaction in progress there began before the base backup's
    /// start. Decoding resumes at that start, so such a transaction's earlier changes would be unknown to
    /// the stream while missing from the copy; once it has ended, the copy contains it (or not) whole.
    /// Returns false, to try again on a later pass, when they stay open longer than the patience allows.
    /// </summary>
    private async Task<bool> ReachCompletePointAsync(TemporaryRestore restore, BaseBackup backup, CancellationToken cancellationToken)
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
            if (exposed.Count == 0) return true;
            if (!told)
            {
                options.Progress?.Report($"transaction(s) {string.Join(", ", exposed)} began before base backup {backup.Name} and are still open at {snapshot.ReplayLsn}; " +
                    "waiting for them to end before copying");
                told = true;
            }

            var newest = await SpooledWalEndAsync(cancellationToken).ConfigureAwait(false);
            if (newest > snapshot.ReplayLsn)
            {
                options.Progress?.Report($"transaction(s) {string.Join(", ", exposed)} began before base backup {backup.Name} and are still open at {snapshot.ReplayLsn}; replaying on to {newest}");
                await restore.AdvanceAsync(newest, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (DateTime.UtcNow > deadline)
            {
                options.Progress?.Report($"bootstrap waits: transaction(s) {string.Join(", ", exposed)} began before base backup {backup.Name} and are still open at " +
                    $"{snapshot.ReplayLsn}; the copy is taken once they have ended");
                return false;
            }

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

    /// <summary>The newest base backup in BASE_BACKUP_DIR, as local files (an sftp source downloads it once, until released).</summary>
    public Task<BaseBackup> NewestBackup(CancellationToken cancellationToken) => options.BaseBackups.NewestAsync(cancellationToken);

    /// <summary>
    /// Copies <paramref name="needing"/> as of a point the restore reaches; the catalog read there covers
    /// <paramref name="all"/> synced tables. Returns false when there is not yet enough WAL after the backup.
    /// </summary>
    public async Task<bool> BootstrapAsync(IReadOnlyList<TableSyncState> all, IReadOnlyList<TableSyncState> needing, CancellationToken cancellationToken)
    {
        var backup = await NewestBackup(cancellationToken).ConfigureAwait(false);
        if (!WalSegmentName.TryParse(backup.Label.StartSegment, out var startName))
            throw new InvalidDataException($"base backup {backup.Directory} names an unreadable start segment '{backup.Label.StartSegment}'");
        await fetcher.FetchFromAsync(backup.Label.StartSegment, cancellationToken).ConfigureAwait(false);
        var spooled = fetcher.Spool.Segments();

        if (spooled.Count < 2 || string.CompareOrdinal(spooled[^1], backup.Label.StartSegment) <= 0)
        {
            options.Progress?.Report($"bootstrap waits for WAL after base backup {backup.Name} (archive ends at {(spooled.Count > 0 ? spooled[^1] : "nothing")})");
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
            WalDirectory = fetcher.Spool.Directory,
            TargetLsn = target,
            Progress = options.Progress,
        }, cancellationToken).ConfigureAwait(false);

        if (!await ReachCompletePointAsync(restore, backup, cancellationToken).ConfigureAwait(false)) return false;
        var position = restore.Snapshot.ReplayLsn;
        await using var source = await ProductionLocale.OpenAsync(database => restore.OpenAsync(database, cancellationToken), options.Settings.ProductionDatabase).ConfigureAwait(false);
        var (catalog, locations) = await ProductionCatalogReader.ReadAsync(source, all.Select(t => t.Table).ToList(), position, cancellationToken).ConfigureAwait(false);
        var archiveFile = WalSegmentName.Format(startName.Timeline, position.Value / options.SegmentSize, options.SegmentSize);

        await using var connection = await ApplySession.OpenAsync(local, options.Settings, cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var table in needing)
        {
            var clock = Stopwatch.StartNew();
            await TableChangeApplier.TruncateAsync(connection, [table.Table], cancellationToken).ConfigureAwait(false);
            var columns = await TableCopier.CopyableColumnsAsync(source, table.Table, cancellationToken).ConfigureAwait(false);
            var rows = await TableCopier.CopyAsync(source, connection, table.Table, columns, cancellationToken).ConfigureAwait(false);
            await SyncState.SetTableAsync(connection, table.Table, TableSyncState.Syncing, position, archiveFile, 0, cancellationToken).ConfigureAwait(false);
            await SyncState.LogAsync(connection, table.Table, "BOOTSTRAP", rows, default, $"base backup {backup.Name} + WAL to {archiveFile}", null,
                clock.ElapsedMilliseconds, backup.Label.StartLsn, position, cancellationToken).ConfigureAwait(false);
            options.Progress?.Report($"bootstrapped {table.Table}: {rows} rows copied as of {position}");
        }

        // The stream resumes no later than the backup's start, so transactions open at the copy's position
        // are seen whole, and it decodes with the catalog read here, which knows the new tables.
        await SyncState.InstallBootstrapAsync(connection, backup.Label.StartLsn, position, CatalogJson.Serialize(catalog),
            JsonSerializer.Serialize(locations, Json), cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        options.BaseBackups.Release(backup);
        return true;
    }
}
