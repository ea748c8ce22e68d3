using DataSync.Core.Archive;
using DataSync.Core.Archive.Sftp;
using DataSync.Core.Configuration;

namespace DataSync.Core.Sync;

/// <summary>
/// The daemon's very first fetch, started before the log, the local database and the daemon lock: when the spool
/// already holds segments (any restart after the first), where fetching goes on follows from the spool alone, so a
/// restarted daemon's backlog starts moving within a few tenths of a second of its launch instead of after the local
/// database has been reached.
/// </summary>
/// <remarks>
/// It only ever adds the segments that follow the newest spooled one, each written whole and renamed into place as
/// every fetch does, so it cannot disturb anything the daemon (or another daemon wrongly given the same state folder)
/// does with older ones. What it cannot do alone it leaves to the daemon's regular first fetch, which runs once this one
/// is over and reports every problem as usual: an empty spool (the start point is in the local database), an sftp
/// archive (its connection is set up with the rest), and any failure here, which is not reported twice. The daemon
/// stops it (<see cref="StopAsync"/>) before its own spool is opened, which clears what a stopped copy left half-written.
/// </remarks>
public sealed class SpoolPrefetch
{
    private readonly CancellationTokenSource _stop;
    private readonly Task _fetching;
    private int _stopped;

    private SpoolPrefetch(CancellationTokenSource stop, Task fetching)
    {
        _stop = stop;
        _fetching = fetching;
    }

    /// <summary>Starts the fetch on the thread pool when the spool in <paramref name="spoolDirectory"/> can say where it goes on.</summary>
    /// <param name="spooled">Told after each segment lands, with its name.</param>
    public static SpoolPrefetch Start(DataSyncSettings settings, string spoolDirectory, Action<string> spooled)
    {
        var stop = new CancellationTokenSource();
        if (SftpLocation.IsSftpUrl(settings.ArchiveDir) || !Directory.Exists(spoolDirectory)) return new SpoolPrefetch(stop, Task.CompletedTask);
        return new SpoolPrefetch(stop, Task.Run(async () =>
        {
            try
            {
                await FetchAsync(settings, spoolDirectory, spooled, stop.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The daemon's regular first fetch meets the same problem and reports it.
            }
        }, CancellationToken.None));
    }

    /// <summary>Stops the fetch after the segment it is copying (that copy is dropped) and waits for it; callable more than once.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0) await _stop.CancelAsync().ConfigureAwait(false);
        await _fetching.ConfigureAwait(false);
    }

    private static async Task FetchAsync(DataSyncSettings settings, string spoolDirectory, Action<string> spooled, CancellationToken cancellationToken)
    {
        await using var archive = new LocalArchiveSource(settings.ArchiveDir);
        var (segmentSize, source) = await WalSegmentSizeProbe.DetectAsync(archive, spoolDirectory, cancellationToken).ConfigureAwait(false);
        if (source is null) return;
        // Stale half-written files stay: another daemon wrongly started on this state folder may be writing one.
        var spool = new WalSpool(spoolDirectory, segmentSize, clearStale: false);
        if (spool.Segments().Count == 0) return;
        await new ArchiveFetcher(archive, spool, segmentSize).FetchNewAsync(null, 1, cancellationToken, spooled).ConfigureAwait(false);
    }
}
