using DataSync.Wal;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// Reports an archive problem that holds the whole stream (a segment missing while later ones exist, a
/// corrupt segment) as one FAILED <c>data_sync_logs</c> row per table, once per occurrence: the sync
/// meets the same problem on every cycle until someone fixes the archive, and the log must not fill up
/// with copies. An occurrence ends when the table has been applied past the file.
/// </summary>
public static class ArchiveProblemLog
{
    /// <summary>
    /// Writes the FAILED row for each table that does not have one naming <paramref name="archiveFile"/> yet,
    /// or whose earlier one was followed by a batch that got past the file (so this is a new occurrence).
    /// Batches before the file (the segments ahead of a gap are still applied) do not count as getting past it.
    /// </summary>
    public static async Task LogOnceAsync(NpgsqlConnection connection, IReadOnlyList<TableSyncState> tables, string archiveFile, string cause,
        uint segmentSize, CancellationToken cancellationToken)
    {
        // A file that is not a segment (a history file...) has no position: any later batch ends the occurrence.
        var fileStart = WalSegmentName.TryParse(archiveFile, out var name) ? name.StartLsn(segmentSize) : new Lsn(0);
        foreach (var table in tables)
        {
            await using var reported = new NpgsqlCommand("""
                SELECT EXISTS (
                    SELECT FROM data_sync_logs f
                    WHERE f.table_name = $1 AND f.status = 'FAILED' AND f.archive_ref = $2
                      AND NOT EXISTS (
                          SELECT FROM data_sync_logs s
                          WHERE s.table_name = $1 AND s.status IN ('SUCCESS', 'BOOTSTRAP') AND s.sync_time > f.sync_time AND s.lsn_to >= $3::pg_lsn))
                """, connection);
            reported.Parameters.AddWithValue(table.Table.ToString());
            reported.Parameters.AddWithValue(archiveFile);
            reported.Parameters.AddWithValue(fileStart.ToString());
            if (await reported.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true) continue;

            var detail = $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC; table {table.Table}; archive file {archiveFile}; LSN {table.Checkpoint}: {cause}";
            await SyncState.LogAsync(connection, table.Table, "FAILED", 0, default, archiveFile, detail, null, null, null, cancellationToken).ConfigureAwait(false);
        }
    }
}
