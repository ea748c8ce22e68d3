using DataSync.Core.Archive;
using DataSync.Core.Bootstrap;
using DataSync.Wal;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>Where fetching begins when the spool is empty: the stream's restart point, or the newest base backup's start once a table waits for its copy.</summary>
public static class FetchStart
{
    public static async Task<(Lsn? Start, uint Timeline)> ResolveAsync(NpgsqlDataSource local, WalSpool spool, Func<CancellationToken, Task<BaseBackup>> newestBackup, CancellationToken cancellationToken)
    {
        if (spool.Segments().Count > 0) return (null, 1);
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var stream = await SyncState.ReadStreamAsync(connection, cancellationToken).ConfigureAwait(false);
        // The timeline last decoded: the fetcher moves on to a newer one from there if a history file says so.
        if (stream is not null)
            return (stream.RestartLsn, stream.LastSegment is { } last && WalSegmentName.TryParse(last, out var name) ? name.Timeline : 1);
        var tables = await SyncState.ReadTablesAsync(connection, cancellationToken).ConfigureAwait(false);
        if (tables.Count == 0) return (null, 1);
        var backup = await newestBackup(cancellationToken).ConfigureAwait(false);
        return (backup.Label.StartLsn, backup.Label.Timeline);
    }
}
