using DataSync.Core.Archive;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// Watches the spool's size against SPOOL_WARN_MB. The spool keeps every segment from the stream's restart point
/// on, and a production transaction left open (idle in transaction, even on a table not synced) holds that point
/// at its first record for as long as it runs: the spool then grows with all of production's WAL until the disk
/// fills. Above the bound this says so, naming the transaction, while there is still room to act. Only the segments
/// the stream has read and still keeps count: those fetched and not yet decoded (a backlog after a bootstrap or a
/// pause) are gone soon without anyone acting.
/// </summary>
public static class SpoolBound
{
    /// <summary>
    /// Null while the spool is within the bound (or the bound is 0). Otherwise the warning, with one FAILED row (table
    /// '*', every synced table) for each hold: none when the row for the segment the stream is held at is there already.
    /// </summary>
    public static async Task<SpoolWarning?> CheckAsync(NpgsqlDataSource local, string spoolDirectory, int warnMb, CancellationToken cancellationToken)
    {
        if (warnMb <= 0) return null;
        var bound = warnMb * 1024L * 1024L;
        if (WalSpool.UsageOf(spoolDirectory).Bytes <= bound) return null;

        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var standing = await StreamStanding.ReadAsync(connection, cancellationToken).ConfigureAwait(false);
        if (standing?.LastSegment is null) return null;
        var usage = standing.KeptForRestart(spoolDirectory);
        if (usage.Bytes <= bound) return null;
        var heldAt = standing.OldestSegment ?? standing.RestartFile;
        var lsn = standing.OldestLsn ?? standing.RestartLsn;
        var message = $"warning: the spool {spoolDirectory} keeps {usage.Segments} segment(s), {usage.MiB} MiB, already decoded, more than SPOOL_WARN_MB ({warnMb}): " +
            (standing.OldestOpenText() is { } oldest
                ? $"production transaction {oldest} holds the stream's restart point, so every segment from {heldAt} on is kept until it ends. " +
                  $"End it on production (SELECT pid, state, xact_start FROM pg_stat_activity WHERE backend_xid = '{standing.OldestXid}'; " +
                  "then commit or roll it back, or pg_terminate_backend(pid)), or give STATE_DIR more room"
                : $"the stream's restart point is {standing.RestartLsn} (archive file {standing.RestartFile}) and every segment from it on is kept; " +
                  "see 'datasync status --verbose' and the daemon log for what holds it");

        // It concerns the stream, so every table alike: one row for all of them (table '*'), once per hold.
        await using var reported = new NpgsqlCommand("""
            SELECT EXISTS (SELECT FROM data_sync_logs WHERE table_name = $1 AND status = 'FAILED' AND archive_ref = $2 AND error_detail LIKE '%warning: the spool %')
            """, connection);
        reported.Parameters.AddWithValue(FailureLog.EveryTable);
        reported.Parameters.AddWithValue(heldAt);
        var written = 0;
        if (await reported.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not true)
        {
            await FailureLog.InsertAsync(connection, FailureLog.EveryTable, heldAt, lsn,
                FailureLog.Detail(DateTimeOffset.UtcNow, FailureLog.EveryTable, heldAt, lsn, message), FailureLog.CauseKey(message), 1, null,
                cancellationToken).ConfigureAwait(false);
            written = 1;
        }

        return new SpoolWarning(message, heldAt, written);
    }
}
