using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// Archive problems (a gap, a corrupt segment) concern every synced table: each gets a FAILED log row
/// naming the file, once per occurrence; each time the sync meets it again adds to that row's occurrences.
/// The sync meets the same problem on every cycle until someone fixes the archive, and the segments ahead of a gap are still applied meanwhile, so "once" cannot mean
/// "while the FAILED row is the latest": an occurrence ends only when the table got past the file.
/// </summary>
public static class ArchiveProblemLog
{
    public static Task LogGapAsync(NpgsqlDataSource local, string missingSegment, string archive, CancellationToken cancellationToken) =>
        LogOnceAsync(local, missingSegment, $"WAL segment {missingSegment} is missing from the archive {archive} while later segments exist; " +
            "nothing past it is applied until it is put back", cancellationToken);

    /// <summary>
    /// Writes the FAILED row for each synced table that has none naming <paramref name="archiveFile"/> yet, or
    /// whose earlier one was followed by a batch or bootstrap that reached the file (a new occurrence).
    /// Batches from segments before the file do not end the occurrence.
    /// </summary>
    public static async Task LogOnceAsync(NpgsqlDataSource local, string archiveFile, string cause, CancellationToken cancellationToken)
    {
        // SUCCESS rows name their segments "X" or "X..Y", BOOTSTRAP rows end with "WAL to X": the newest segment is
        // the last 24 characters, and segment names of one timeline sort in WAL order. A file that is not a
        // segment (a history file...) has no place in that order: any later batch ends its occurrence.
        var segment = WalSegmentName.TryParse(archiveFile, out var name) ? name.BaseName : "";
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var table in await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false))
        {
            // A repeat of the occurrence counts on its row instead.
            await using var reported = new NpgsqlCommand("""
                UPDATE data_sync_logs SET occurrences = occurrences + 1, last_occurred_at = now()
                WHERE id = (
                    SELECT f.id FROM data_sync_logs f
                    WHERE f.table_name = $1 AND f.status = 'FAILED' AND f.archive_ref = $2
                      AND NOT EXISTS (
                          SELECT FROM data_sync_logs s
                          WHERE s.table_name = $1 AND s.status IN ('SUCCESS', 'BOOTSTRAP') AND s.sync_time > f.sync_time
                            AND right(s.archive_ref, 24) COLLATE "C" >= $3)
                    ORDER BY f.sync_time DESC LIMIT 1)
                """, connection);
            reported.Parameters.AddWithValue(table.Table.ToString());
            reported.Parameters.AddWithValue(archiveFile);
            reported.Parameters.AddWithValue(segment);
            if (await reported.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1) continue;
            var detail = $"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC; table {table.Table}; archive file {archiveFile}; LSN {table.Checkpoint}: {cause}";
            await SyncState.LogAsync(connection, table.Table, "FAILED", 0, default, archiveFile, detail, null, null, null, cancellationToken).ConfigureAwait(false);
        }
    }
}
