using System.Globalization;
using System.Text.RegularExpressions;
using DataSync.Wal;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// FAILED rows for failures that are not one table's: the archive source refusing or unreachable, a stream run
/// that fails for every table. Each distinct cause gets one row; while it keeps coming back (each pass meets it
/// again until someone acts) the row's <c>occurrences</c> and <c>last_occurred_at</c> are updated instead of a
/// new row written. An occurrence ends when the part that met it succeeds again (<see cref="Resolved"/>): the
/// next time the cause is met it is a new row. Kept in memory by the one daemon (or engine) that writes them,
/// so a restart starts a new row for a cause that persists.
/// </summary>
public sealed partial class FailureLog(NpgsqlDataSource local, LocalDatabaseOutage outage)
{
    /// <summary>The table_name of a row that concerns every synced table (data_sync_logs.table_name is NOT NULL).</summary>
    public const string EveryTable = "*";

    private readonly Lock _gate = new();

    // scope -> cause key -> the row written for it
    private readonly Dictionary<string, Dictionary<string, Guid>> _open = [];

    /// <summary>
    /// Records one occurrence of <paramref name="cause"/> met by <paramref name="scope"/> (a part of the sync: "archive",
    /// "stream"...): a new FAILED row the first time, else one more on the row written then. Returns true when it
    /// wrote a new row. <paramref name="cause"/> says what happened and what to do.
    /// </summary>
    public async Task<bool> RecordAsync(string scope, string table, string? archiveFile, Lsn? lsn, string cause, CancellationToken cancellationToken)
    {
        var key = CauseKey(cause);
        Guid? row;
        lock (_gate) row = _open.TryGetValue(scope, out var causes) && causes.TryGetValue(key, out var id) ? id : null;

        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        if (row is { } existing)
        {
            await using var bump = new NpgsqlCommand(
                "UPDATE data_sync_logs SET occurrences = occurrences + 1, last_occurred_at = now() WHERE id = $1", connection);
            bump.Parameters.AddWithValue(existing);
            if (await bump.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1) return false;
        }

        var written = await InsertAsync(connection, table, archiveFile, lsn, Detail(DateTimeOffset.UtcNow, table, archiveFile, lsn, cause), key, 1, null, cancellationToken)
            .ConfigureAwait(false);
        lock (_gate)
        {
            if (!_open.TryGetValue(scope, out var causes)) _open[scope] = causes = [];
            causes[key] = written;
        }

        return true;
    }

    /// <summary>The local database outage the parts meet, logged once it has ended.</summary>
    public LocalDatabaseOutage Outage => outage;

    /// <summary>
    /// Counts <paramref name="error"/> toward the local database outage and drops the pool's idle sessions: a server that
    /// went away has ended them, and the client would learn it only when one is next used, failing once more after the
    /// server is back.
    /// </summary>
    public void OutageMet(string what, Exception error)
    {
        outage.Met(what, error);
        local.Clear();
    }

    /// <summary>
    /// Reports that <paramref name="what"/> (the work of <paramref name="scope"/>) failed with <paramref name="error"/>:
    /// an unreachable local database counts toward the outage (logged once it is back); a corrupt or missing WAL
    /// segment was logged per table where it was met (<see cref="ArchiveProblemLog"/>); anything else is recorded
    /// here for every table, with <paramref name="whatToDo"/>. Never throws for the database being down.
    /// Returns true when a new FAILED row was written.
    /// </summary>
    /// <param name="fileOf">Names the segment file holding an LSN the error gives, when the caller knows how.</param>
    public async Task<bool> ReportAsync(string scope, string what, Exception error, string whatToDo, CancellationToken cancellationToken, Func<Lsn, string>? fileOf = null)
    {
        if (LocalDatabaseOutage.IsOutage(error))
        {
            OutageMet(what, error);
            return false;
        }

        var chain = LocalDatabaseOutage.Chain(error).ToList();
        if (chain.Any(e => e is Wal.WalFormatException)) return false;
        var lsn = chain.OfType<Wal.Changes.ChangeDecodingException>().Select(d => (Lsn?)d.Lsn).FirstOrDefault();
        var archiveFile = lsn is { } at && fileOf is not null ? fileOf(at) : null;
        try
        {
            return await RecordAsync(scope, EveryTable, archiveFile, lsn, $"{what} failed: {TableBootstrapper.Describe(error)}; {whatToDo}", cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (LocalDatabaseOutage.IsOutage(e))
        {
            OutageMet(what, e);
            return false;
        }
    }

    /// <summary>
    /// The part named <paramref name="scope"/> succeeded: the causes it met have ended (meeting them again is a new
    /// row), and a local database outage met before has ended too; returns its FAILED row's text when it wrote one.
    /// </summary>
    public async Task<string?> SucceededAsync(string scope, CancellationToken cancellationToken)
    {
        lock (_gate) _open.Remove(scope);
        if (!outage.Active) return null;
        try
        {
            return await outage.EndedAsync(local, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (LocalDatabaseOutage.IsOutage(e))
        {
            return null;
        }
    }

    /// <summary>
    /// Writes one FAILED row with its repeat count (<paramref name="lastOccurredAt"/> null: now); every FAILED row of
    /// a failure that is not one table's own is written here.
    /// </summary>
    public static async Task<Guid> InsertAsync(NpgsqlConnection connection, string table, string? archiveFile, Lsn? lsn, string detail, string causeKey,
        long occurrences, DateTimeOffset? lastOccurredAt, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand("""
            INSERT INTO data_sync_logs (table_name, status, rows_synced, archive_ref, error_detail, lsn_from, lsn_to, cause_key, occurrences, last_occurred_at)
            VALUES ($1, 'FAILED', 0, $2, $3, $4, $4, $5, $6, coalesce($7, now()))
            RETURNING id
            """, connection);
        insert.Parameters.AddWithValue(table);
        insert.Parameters.AddWithValue((object?)archiveFile ?? DBNull.Value);
        insert.Parameters.AddWithValue(detail);
        insert.Parameters.Add(LsnConversions.Parameter(lsn));
        insert.Parameters.AddWithValue(causeKey);
        insert.Parameters.AddWithValue(occurrences);
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = lastOccurredAt, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        return (Guid)(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>The error_detail text every FAILED row has: time, table, archive file, LSN, then the cause and what to do.</summary>
    public static string Detail(DateTimeOffset time, string table, string? archiveFile, Lsn? lsn, string cause) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{time:yyyy-MM-dd HH:mm:ss} UTC; table {(table == EveryTable ? "every synced table" : table)}; archive file {archiveFile ?? "-"}; LSN {(lsn is { } at ? at.ToString() : "-")}: {cause}");

    /// <summary>
    /// What tells a repeat from a new cause: its first line without numbers (times, LSNs, process ids, attempt
    /// counts and folder names change between attempts without changing the cause).
    /// </summary>
    public static string CauseKey(string cause) => Numbers().Replace(cause.Split('\n')[0], "#");

    [GeneratedRegex(@"[0-9A-Fa-f]*[0-9][0-9A-Fa-f]*")]
    private static partial Regex Numbers();
}
