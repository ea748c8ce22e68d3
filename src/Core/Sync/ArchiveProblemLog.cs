using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// Archive problems (a gap, a corrupt segment) concern every synced table: each gets a FAILED log row
/// naming the file, once: not again while that row is still the table's latest.
/// </summary>
public static class ArchiveProblemLog
{
    public static Task LogGapAsync(NpgsqlDataSource local, string missingSegment, string archive, CancellationToken cancellationToken) =>
        LogOnceAsync(local, missingSegment, $"WAL segment {missingSegment} is missing from the archive {archive} while later segments exist; " +
            "nothing past it is applied until it is put back", cancellationToken);

    public static async Task LogOnceAsync(NpgsqlDataSource local, string archiveFile, string cause, CancellationToken cancellationToken)
    {
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var table in await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false))
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
}
