using System.Text.Json;
using DataSync.Core.Archive;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// One run of the stream over what the spool holds: decodes from the stream's restart point with the
/// catalog saved beside it, routes the committed transactions to the tables' sinks and records the new
/// restart point after each batch. Shared by the in-process engine and the daemon's coordinator.
/// </summary>
public sealed class StreamDecoding(SyncOptions options, NpgsqlDataSource local, WalSpool spool, SpillStore spill)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    /// <summary>
    /// The spooled segments a run starting at <paramref name="restart"/> reads, in order: one copy of each, the newer
    /// timeline's after a switch (see <see cref="WalSpool.WalFrom"/>).
    /// </summary>
    public IReadOnlyList<string> SegmentsFrom(Lsn restart) => spool.WalFrom(restart, options.SegmentSize).Segments;

    /// <summary>Names the segment file that holds <paramref name="lsn"/> on <paramref name="timeline"/>.</summary>
    public string SegmentOf(uint timeline, Lsn lsn) => WalSegmentName.OfStart(timeline, lsn, options.SegmentSize);

    /// <summary>
    /// Decodes <paramref name="segments"/> (the spool from the restart point, or segments framed elsewhere) and
    /// applies through <paramref name="sinks"/>. While <paramref name="holdSpool"/> says so (a bootstrap under way reads
    /// older segments), the spool is not trimmed. With <paramref name="framed"/> the segments come framed by a pool of
    /// decoders, in order, framed with the reader options given to it (the timeline's history after a switch); without
    /// it they are read one after the other here.
    /// </summary>
    public async Task<RouteResult> RunAsync(StreamState stream, IReadOnlyList<(ITableSink Sink, Lsn Checkpoint)> sinks, IReadOnlyList<string> segments,
        Func<bool>? holdSpool, CancellationToken cancellationToken, Func<IReadOnlyList<string>, WalReaderOptions, IEnumerable<FramedSegment>>? framed = null)
    {
        if (segments.Count == 0 || sinks.Count == 0) return new RouteResult(0, 0, [], false);
        var catalog = CatalogJson.Deserialize(stream.CatalogJson);
        var locations = JsonSerializer.Deserialize<CatalogLocations>(stream.LocationsJson, Json)!;
        // After a switch the newest timeline names the files applied; its history tells the readers where each older timeline ended.
        var timeline = WalSegmentName.TryParse(segments[^1], out var lastName) ? lastName.Timeline : 1;
        var history = spool.Histories().FirstOrDefault(h => h.Timeline == timeline);
        var readerOptions = new WalReaderOptions { Timeline = timeline, History = history };
        var reassembly = new ReassemblerOptions { MemoryLimitBytes = options.MemoryLimitBytes, Spill = spill };
        using var decoder = framed is null
            ? new ChangeDecoder(catalog, locations, segments.Select(s => WalSegmentSource.FromFile(spool.PathOf(s))), stream.RestartLsn, reassembly, readerOptions)
            : new ChangeDecoder(catalog, locations, framed(segments, readerOptions), stream.RestartLsn, reassembly, readerOptions);

        var router = new ChangeRouter(timeline, options.SegmentSize);
        RouteResult result;
        try
        {
            result = await router.RunAsync(decoder, sinks, segments[^1], RecordAsync, cancellationToken).ConfigureAwait(false);
        }
        catch (WalFormatException e)
        {
            // A corrupt or unreadable segment: every table learns which file and where; nothing past it is applied.
            // The spool drops it (and what follows) so the next pass takes the archive's copy again.
            await ArchiveProblemLog.LogOnceAsync(local, Path.GetFileName(e.FileName), e.Message, cancellationToken).ConfigureAwait(false);
            spool.RemoveFrom(Path.GetFileName(e.FileName));
            throw;
        }

        if (result.Rows > 0) options.Progress?.Report($"applied {result.Transactions} transaction(s), {result.Rows} row change(s), up to {segments[^1]}");
        return result;

        async Task<bool> RecordAsync(StreamPoint point, CancellationToken token)
        {
            await using var connection = await local.OpenConnectionAsync(token).ConfigureAwait(false);
            var progress = new StreamProgress(point.RestartLsn, SegmentOf(timeline, point.RestartLsn), point.LastSegment)
            {
                RoutedThrough = point.RoutedThrough,
                RoutedTime = point.RoutedTime,
                WalTime = point.WalTime,
                OldestOpen = point.OldestOpen,
                OldestSegment = point.OldestOpen is { } oldest ? SegmentOf(timeline, oldest.FirstLsn) : null,
            };
            var recorded = await SyncState.RecordProgressAsync(connection, stream.Generation, progress, CatalogJson.Serialize(point.Catalog),
                point.Locations is null ? stream.LocationsJson : JsonSerializer.Serialize(point.Locations, Json), token).ConfigureAwait(false);
            if (!recorded) return false;

            // Segments wholly before the restart point will not be read again (unless someone still needs them).
            if (holdSpool?.Invoke() != true) spool.RemoveBefore(SegmentOf(timeline, point.RestartLsn));
            return true;
        }
    }
}
