using System.Text.Json;
using DataSync.Core.Archive;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Records;
using DataSync.Wal.Segments;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// The stream as it lives across segments: one decoder (its open transactions, their spill files, the catalog and
/// the position) kept from one segment to the next, so each segment is read and framed once, however long the
/// transactions that cross it. The restart point and the tables' checkpoints are still recorded after every batch,
/// so a process that dies resumes from the database's state; the decoder is only built again from there when the
/// stream's generation changes (a bootstrap rewound it), the timeline followed changes, or a pass failed.
/// </summary>
/// <remarks>
/// <para>The driver (the in-process <see cref="SyncEngine"/> or the daemon's coordinator) calls, in this order and
/// never two at once: <see cref="Prepare"/> with the stream state read from the database; <see cref="Plan"/> for the
/// segments to frame next, which it frames however it likes (on its own thread, or a pool of decoders) and hands back
/// with <see cref="Collect"/> (through the <see cref="Inbox"/>) in any order; <see cref="Feed"/>, which passes the ones in order to the decoder; and
/// <see cref="RouteAsync"/>, which decodes what was fed and applies it through the tables' sinks. Only
/// <see cref="Plan"/> and <see cref="Collect"/> may be called while a route runs.</para>
/// <para>Segments go through one <see cref="SegmentReorderBuffer"/>; framed segments hold pooled memory, so the
/// driver bounds how many it asks for ahead (<see cref="Waiting"/> counts those accepted but not fed).</para>
/// </remarks>
public sealed class LiveStream : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    // Far above any driver's lead (the pool's size plus one): the bound is the driver's, this only sizes the slots.
    private const int ReorderCapacity = 128;

    /// <summary>Spooled segments ahead of a transaction's position below which no look for its end is made (<see cref="BacklogAhead"/>).</summary>
    private const int LookAheadSegments = 4;

    /// <summary>
    /// How long one route goes on into segments that are already spooled: long enough that a backlog is worked off
    /// in few routes (a route's end drains every table and reads the state again), short enough that the driver
    /// soon hears of a table list change or a resync asked meanwhile.
    /// </summary>
    private static readonly TimeSpan RouteSpan = TimeSpan.FromSeconds(10);

    /// <summary>How long a route waits for a segment being framed elsewhere before it ends and leaves it to the next pass.</summary>
    private static readonly TimeSpan FrameWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Batches span up to this many segments within a route (and end at its end): fewer commits and restart points,
    /// and a backlog's repeated updates of the same rows net over more of its transactions.
    /// </summary>
    public const int BatchSegments = 8;

    /// <summary>
    /// A batch also ends at this many row changes (at the next commit). Every batch end drains the pipeline: the decoder
    /// waits until every table has merged its last rounds and committed. A backlog of small transactions makes about
    /// 2,500 row changes per MB of WAL (pgbench's four a transaction), so at 200,000 its batches ended every 5 segments
    /// rather than every <see cref="BatchSegments"/>; the segment bound alone keeps how much is read again after a crash.
    /// </summary>
    public const long BatchRows = 1_000_000;

    // The reorder buffer and the plan are shared by the driver's thread (Plan, Collect) and a route that goes on into
    // the next segments on its own thread.
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private readonly SyncOptions _options;
    private readonly NpgsqlDataSource _local;
    private readonly WalSpool _spool;
    private readonly SpillStore _spill;
    private readonly FailureLog? _failures;
    private readonly SegmentFramer _framer;

    private ChangeDecoder? _decoder;
    private SegmentReorderBuffer? _reorder;
    private StreamState? _state;
    private WalReaderOptions _readerOptions = new();
    private uint _timeline = 1;
    private long _epoch;
    private long _nextSequence;
    private ulong _nextToPlan;
    private string? _lastFed;
    private bool _fedSinceRoute;
    private bool _broken;
    // Where the decoder stood when a cut record's segment was last framed again: never twice at the same cut.
    private Lsn _reframedAt = Lsn.Invalid;

    public LiveStream(SyncOptions options, NpgsqlDataSource local, WalSpool spool, SpillStore spill, FailureLog? failures = null)
    {
        _options = options;
        _local = local;
        _spool = spool;
        _spill = spill;
        _failures = failures;
        _framer = spool.Framer();
    }

    /// <summary>Segments framed from their start since this stream was made (each segment once while the decoder lives).</summary>
    public long SegmentsFramed { get; private set; }

    /// <summary>Segments accepted but not yet fed to the decoder.</summary>
    public int Waiting
    {
        get
        {
            lock (_gate) return _reorder?.Count ?? 0;
        }
    }

    /// <summary>Whether a decoder is live (prepared and not broken).</summary>
    public bool IsLive => _decoder is not null && !_broken;

    /// <summary>
    /// Takes the stream state just read from the database. Keeps the live decoder when the state is the one it
    /// continues (same generation, same timeline); else builds it again from the state's restart point.
    /// </summary>
    public void Prepare(StreamState stream)
    {
        var wal = _spool.WalFrom(stream.RestartLsn, _options.SegmentSize);
        var timeline = wal.Segments is [.., var newest] && WalSegmentName.TryParse(newest, out var name) ? name.Timeline : _timeline;
        if (_decoder is not null && !_broken && _state is { } live && live.Generation == stream.Generation && timeline == _timeline)
        {
            _state = stream;
            return;
        }

        Reset();
        _state = stream;
        _timeline = timeline;
        _readerOptions = new WalReaderOptions { Timeline = timeline, History = _spool.Histories().FirstOrDefault(h => h.Timeline == timeline) };
        var catalog = CatalogJson.Deserialize(stream.CatalogJson);
        var locations = JsonSerializer.Deserialize<CatalogLocations>(stream.LocationsJson, Json)!;
        var reassembly = new ReassemblerOptions
        {
            MemoryLimitBytes = _options.MemoryLimitBytes, Spill = _spill,
            FollowSchemaChanges = _options.Settings.SchemaChanges == Configuration.SchemaChanges.Follow,
            // A catch-up's big transaction whose commit is spooled already is applied while it is read (CommittedTransaction.AheadOfCommit).
            EndAhead = new TransactionEndLookout(new TransactionEndScout(BacklogAhead, _readerOptions)).Find,
            AheadPartBytes = Math.Max(1L << 20, _options.MemoryLimitBytes / 4),
            // An ask only looks at the lookout's last answer; the looks themselves run one at a time in the background.
            AheadAskBytes = 256 * 1024,
        };
        _decoder = new ChangeDecoder(catalog, locations, Array.Empty<FramedSegment>(), stream.RestartLsn, reassembly, _readerOptions);
        _reorder = new SegmentReorderBuffer(ReorderCapacity);
        _nextSequence = 0;
        _nextToPlan = stream.RestartLsn.Value / _options.SegmentSize;
        _lastFed = null;
        _fedSinceRoute = false;
        _reframedAt = Lsn.Invalid;
        _epoch++;
    }

    /// <summary>
    /// The segments a look for a transaction's end reads (<see cref="TransactionEndScout"/>): those <see cref="SpooledAhead"/>
    /// gives when they are a backlog of at least <see cref="LookAheadSegments"/>, else none. At the archive's tail (a live
    /// transaction) the commit, if it comes, is moments ahead of the decoder, and a look would only add its own segment
    /// buffer to the daemon's memory: 12–16 MiB at the peak of a live 2 GB transaction (docs/benchmarks.md, session 16).
    /// </summary>
    private IReadOnlyList<WalSegmentSource> BacklogAhead(Lsn from)
    {
        var segments = SpooledAhead(from);
        return segments.Count >= LookAheadSegments ? segments : [];
    }

    /// <summary>
    /// The spooled segments from the one holding <paramref name="from"/> on, as the decoder will read them: consecutive,
    /// on the timeline it follows (a gap or a newer timeline ends them).
    /// </summary>
    private IReadOnlyList<WalSegmentSource> SpooledAhead(Lsn from)
    {
        var segments = new List<WalSegmentSource>();
        var next = from.Value / _options.SegmentSize;
        foreach (var segment in _spool.WalFrom(from, _options.SegmentSize).Segments)
        {
            if (!WalSegmentName.TryParse(segment, out var name) || name.SegmentNumber(_options.SegmentSize) != next || name.Timeline > _timeline) break;
            segments.Add(_spool.Source(segment));
            next++;
        }

        return segments;
    }

    /// <summary>
    /// The spooled segments after those already asked for, in order, at most <paramref name="most"/>: the copies the
    /// timeline followed chooses. None when no decoder is live or the next segment is not spooled yet.
    /// </summary>
    public IReadOnlyList<SegmentRequest> Plan(int most)
    {
        lock (_gate) return PlanLocked(most);
    }

    private List<SegmentRequest> PlanLocked(int most)
    {
        if (!IsLive || most <= 0) return [];
        var wal = _spool.WalFrom(new Lsn(_nextToPlan * _options.SegmentSize), _options.SegmentSize);
        var requests = new List<SegmentRequest>();
        foreach (var segment in wal.Segments)
        {
            if (requests.Count == most || !WalSegmentName.TryParse(segment, out var name)) break;
            var number = name.SegmentNumber(_options.SegmentSize);
            // The spool may start after the restart point's segment (segments a bootstrap rewound past were trimmed
            // before it): the decoder then starts with the first one the spool has, as it always has.
            if (_nextSequence == 0 && number > _nextToPlan) _nextToPlan = number;
            if (number != _nextToPlan) break; // a gap: the watcher reports it; nothing after it is read
            // A newer timeline than the decoder follows: it is built again at the next Prepare.
            if (name.Timeline > _timeline) break;
            requests.Add(new SegmentRequest(segment, _readerOptions, _epoch, _nextSequence++));
            _nextToPlan++;
        }

        return requests;
    }

    /// <summary>Whether the segment <see cref="Plan"/> would ask for next is spooled (nothing is planned).</summary>
    private bool NextSpooledLocked()
    {
        if (!IsLive) return false;
        var wal = _spool.WalFrom(new Lsn(_nextToPlan * _options.SegmentSize), _options.SegmentSize);
        return wal.Segments is [var first, ..] && WalSegmentName.TryParse(first, out var name)
            && (name.SegmentNumber(_options.SegmentSize) == _nextToPlan || _nextSequence == 0) && name.Timeline <= _timeline;
    }

    /// <summary>Frames a requested segment on the calling thread (any thread; the framer keeps no state).</summary>
    public FramedSegment Frame(SegmentRequest request) => _framer.With(request.Options).Frame(_spool.Source(request.SegmentName));

    /// <summary>
    /// Called (on the route's thread) when a route took a segment that came after the ones fed before it, or waits for
    /// one that is spooled: the driver asks for the next ones to be framed ahead, and the route waits for them. Null:
    /// the route frames them itself when it gets there.
    /// </summary>
    public Action? SegmentTaken { get; set; }

    /// <summary>Where framers leave the segments framed for this stream (collected with <see cref="Collect"/>).</summary>
    public FramedSegmentInbox Inbox { get; } = new();

    /// <summary>
    /// Collects the segment framed for <paramref name="request"/> from the <see cref="Inbox"/>, in any order of
    /// arrival; one framed for an older decoder is disposed.
    /// </summary>
    public void Collect(SegmentRequest request)
    {
        if (Inbox.Take(request) is not { } segment) return;
        lock (_gate)
        {
            if (request.Epoch != _epoch || _reorder is null || _broken)
            {
                segment.Dispose();
                return;
            }

            SegmentsFramed++;
            var admission = _reorder.TryAdd(request.Sequence, segment);
            if (admission != SegmentAdmission.Accepted)
                throw new InvalidOperationException($"segment {request.SegmentName} (request {request.Sequence}) was refused by the reorder buffer: {admission}");
        }

        _arrived.Release();
    }

    /// <summary>Frames <paramref name="request"/> on the calling thread and collects it (the in-process driver's way).</summary>
    public void FrameAndCollect(SegmentRequest request)
    {
        Inbox.Deposit(request, Frame(request));
        Collect(request);
    }

    /// <summary>
    /// Hands the decoder the accepted segments that come next in order. When the last pass stopped inside a record
    /// that runs into a segment fed since, the segment the record began in is framed again from that record (only its
    /// tail is read) so the decoder goes on. Returns whether the decoder has something new to read.
    /// </summary>
    public bool Feed()
    {
        lock (_gate)
        {
            FeedLocked();
            return _fedSinceRoute;
        }
    }

    /// <summary>Hands the decoder what comes next in order (see <see cref="Feed"/>); returns whether it took anything.</summary>
    private bool FeedLocked()
    {
        if (!IsLive || _reorder is null) return false;
        var decoder = _decoder!;
        var took = false;
        while (_reorder.TakeNext() is { } segment)
        {
            decoder.Append(segment);
            _lastFed = segment.Name.BaseName;
            _fedSinceRoute = true;
            took = true;
        }

        if (decoder.End == WalReadEnd.IncompleteRecord && decoder.EndLsn != _reframedAt && _lastFed is { } last && WalSegmentName.TryParse(last, out var lastName))
        {
            var cut = decoder.EndLsn.Value / _options.SegmentSize;
            // The copy the chain chose for the segment the record began in (after a switch it may be an older timeline's).
            if (cut < lastName.SegmentNumber(_options.SegmentSize) && _spool.WalFrom(decoder.EndLsn, _options.SegmentSize).Segments is [var copy, ..])
            {
                _reframedAt = decoder.EndLsn;
                decoder.Append(_framer.With(_readerOptions).Frame(_spool.Source(copy), decoder.EndLsn));
                _fedSinceRoute = true;
                took = true;
            }
        }

        return took;
    }

    /// <summary>
    /// Called by a route once the decoder has read everything fed: feeds the next segment when it is spooled (framed
    /// by the driver already, being framed, or framed here), so one route works off a backlog of many segments. False
    /// when there is nothing more now, or the route has run for <see cref="RouteSpan"/>: the route then ends. With
    /// <paramref name="goOn"/> (rows were applied ahead of a commit still to come) the route's time does not end it, and
    /// it waits for the driver's framing as long as that takes.
    /// </summary>
    private async Task<bool> MoreAsync(System.Diagnostics.Stopwatch clock, bool goOn, CancellationToken cancellationToken)
    {
        if (!goOn && clock.Elapsed > RouteSpan) return false;
        while (true)
        {
            SegmentRequest? here = null;
            bool fed;
            lock (_gate)
            {
                // A read that ended for good (zeros, an older timeline's end) takes no more: the next pass starts again.
                if (!IsLive || _reorder is null || _decoder!.End is not (WalReadEnd.EndOfFiles or WalReadEnd.IncompleteRecord)) return false;
                fed = FeedLocked();
                if (!fed)
                {
                    var inFlight = _nextSequence - _reorder.NextSequence - _reorder.Count;
                    if (inFlight <= 0)
                    {
                        if (!NextSpooledLocked()) return false;
                        // A driver that frames ahead is asked to (below); without one, this thread frames it.
                        if (SegmentTaken is null)
                        {
                            if (PlanLocked(1) is not [var request]) return false;
                            here = request;
                        }
                    }
                }
            }

            if (fed || (here is null && SegmentTaken is not null))
            {
                // Room ahead: the driver asks for the next segments to be framed (again, if it has not yet).
                SegmentTaken?.Invoke();
                if (fed) return true;
            }

            if (here is { } own)
            {
                // Nobody frames it yet: this thread does, as the in-process driver does.
                FrameAndCollect(own);
                continue;
            }

            // The driver frames it: wait for it (a framing that failed fails the driver; the route ends after the wait).
            if (!await _arrived.WaitAsync(FrameWait, cancellationToken).ConfigureAwait(false) && !goOn) return false;
        }
    }

    /// <summary>
    /// Decodes what was fed and applies it through <paramref name="sinks"/>: batches close at segment boundaries, each
    /// followed by the stream's restart point. A failure is reported (one FAILED row per cause when a failure log was
    /// given) and rethrown; the decoder is then built again from the database's state at the next <see cref="Prepare"/>.
    /// </summary>
    public async Task<RouteResult> RouteAsync(IReadOnlyList<(ITableSink Sink, Lsn Checkpoint)> sinks, CancellationToken cancellationToken)
    {
        if (!IsLive || !_fedSinceRoute || sinks.Count == 0) return RouteResult.None;
        _fedSinceRoute = false;
        var decoder = _decoder!;
        var state = _state!;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RouteResult result;
        try
        {
            result = await new ChangeRouter(_timeline, _options.SegmentSize, batchRowLimit: BatchRows, batchSegments: BatchSegments)
                .RunAsync(decoder, sinks, () => _lastFed!, RecordAsync, cancellationToken, (goOn, token) => MoreAsync(clock, goOn, token)).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _broken = true;
            if (e is WalFormatException bad)
            {
                // A corrupt or unreadable segment: every table learns which file and where; nothing past it is applied.
                // The spool drops it (and what follows) so the next pass takes the archive's copy again.
                await ArchiveProblemLog.LogOnceAsync(_local, Path.GetFileName(bad.FileName), bad.Message, cancellationToken).ConfigureAwait(false);
                _spool.RemoveFrom(Path.GetFileName(bad.FileName));
            }

            if (_failures is null) throw;
            var newCause = await _failures.ReportAsync(Scope, "the stream (decoding the WAL for every synced table)", e,
                "nothing past this point is applied for any table until it is fixed; the stream retries on its own with a growing pause", CancellationToken.None,
                SegmentOf).ConfigureAwait(false);
            throw new StreamFailedException(e, newCause);
        }

        // Someone else (a bootstrap) moved the stream meanwhile: its state wins and the decoder starts again from it.
        // A read that ended for good (zeros, an older timeline's end) takes no more segments either: the next pass
        // starts again from the database's state, as every pass did before the stream lived across segments.
        if (result.Superseded || decoder.End is WalReadEnd.ZeroedTail or WalReadEnd.StalePartialTail or WalReadEnd.TimelineEnded) _broken = true;
        if (_failures is not null && await _failures.SucceededAsync(Scope, CancellationToken.None).ConfigureAwait(false) is { } outage)
            result = result with { OutageEnded = outage };
        if (result.Rows > 0) _options.Progress?.Report($"applied {result.Transactions} transaction(s), {result.Rows} row change(s), up to {_lastFed}");
        return result;

        async Task<bool> RecordAsync(StreamPoint point, CancellationToken token)
        {
            await using var connection = await _local.OpenConnectionAsync(token).ConfigureAwait(false);
            var progress = new StreamProgress(point.RestartLsn, SegmentOf(point.RestartLsn), point.LastSegment)
            {
                RoutedThrough = point.RoutedThrough,
                RoutedTime = point.RoutedTime,
                WalTime = point.WalTime,
                OldestOpen = point.OldestOpen,
                OldestSegment = point.OldestOpen is { } oldest ? SegmentOf(oldest.FirstLsn) : null,
            };
            var recorded = await SyncState.RecordProgressAsync(connection, state.Generation, progress, CatalogJson.Serialize(point.Catalog),
                point.Locations is null ? state.LocationsJson : JsonSerializer.Serialize(point.Locations, Json), token).ConfigureAwait(false);
            if (!recorded) return false;

            // Segments wholly before the restart point will not be read again (a bootstrap's hold keeps them while it needs them).
            _spool.RemoveBefore(SegmentOf(point.RestartLsn));
            return true;
        }
    }

    /// <summary>The part of the sync this stream reports failures as.</summary>
    public const string Scope = "stream";

    /// <summary>Names the segment file that holds <paramref name="lsn"/> on the timeline followed.</summary>
    public string SegmentOf(Lsn lsn) => WalSegmentName.OfStart(_timeline, lsn, _options.SegmentSize);

    /// <summary>Drops the decoder and what waits for it; the next <see cref="Prepare"/> builds it again from the database's state.</summary>
    public void Reset()
    {
        lock (_gate) ResetLocked();
    }

    private void ResetLocked()
    {
        _reorder?.Dispose();
        _reorder = null;
        _decoder?.Dispose();
        _decoder = null;
        _state = null;
        _broken = false;
        _epoch++;
    }

    public void Dispose()
    {
        Reset();
        Inbox.Dispose();
    }
}
