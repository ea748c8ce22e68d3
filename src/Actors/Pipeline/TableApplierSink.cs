using Akka.Actor;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.Messages.Pipeline;
using DataSync.Wal;
using DataSync.Wal.Changes;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The router's view of a <see cref="TableApplier"/> actor: changes go in chunks, with one chunk in
/// flight while the next is gathered, so decoding and applying overlap while memory stays bounded.
/// A chunk ends at <paramref name="chunkSize"/> changes or at about <paramref name="chunkBytes"/> bytes of
/// row images, whichever comes first: wide rows (TOASTed values of up to 1 GB) must not make a chunk of
/// thousands of them.
/// </summary>
public sealed class TableApplierSink(TableName table, IActorRef applier, int chunkSize = 4096, long chunkBytes = TableApplierSink.DefaultChunkBytes) : ITableSink
{
    /// <summary>
    /// 1 MiB: two chunks (one in flight, one gathered) hold about 2 MiB of row images. Measured on the memory
    /// benchmark (1 KB rows), 4096-row chunks held 9 MB; 1 MiB chunks of ~900 such rows cost no visible apply time.
    /// </summary>
    public const long DefaultChunkBytes = 1L << 20;

    // What a change costs besides its row images: the RowChange, its DecodedRows with their field arrays, the list slot.
    private const int ChangeOverhead = 160;

    // Merging a round into a large table can take long; a dead applier answers with its failure instead.
    private static readonly TimeSpan AskTimeout = TimeSpan.FromHours(1);

    private List<CommittedChange> _chunk = new(chunkSize);
    private long _chunkBytes;
    private Task<BatchAck>? _inFlight;
    private Lsn _checkpoint;
    private bool _paused;

    public TableName Table => table;

    public IActorRef Applier => applier;

    public bool Wants(Lsn commitLsn) => !_paused && commitLsn > _checkpoint;

    public async Task BeginAsync(Lsn checkpoint, uint timeline, CancellationToken cancellationToken)
    {
        _checkpoint = checkpoint;
        _paused = false;
        _chunk = new List<CommittedChange>(chunkSize);
        _chunkBytes = 0;
        _inFlight = null;
        Note(await applier.Ask<BatchAck>(new BeginBatch(checkpoint, timeline), AskTimeout, cancellationToken).ConfigureAwait(false));
    }

    public async ValueTask<bool> AddAsync(RowChange change, Lsn commitLsn, CancellationToken cancellationToken)
    {
        if (!Wants(commitLsn)) return false;
        _chunk.Add(new CommittedChange(change, commitLsn));
        _chunkBytes += ChangeOverhead + (change.NewRow?.CopyTuple.Length ?? 0) + (change.OldKey?.CopyTuple.Length ?? 0);
        if (_chunk.Count >= chunkSize || _chunkBytes >= chunkBytes) await SendChunkAsync(cancellationToken).ConfigureAwait(false);
        return !_paused;
    }

    public async Task<bool> TruncateAsync(Lsn commitLsn, CancellationToken cancellationToken)
    {
        if (!Wants(commitLsn)) return false;
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        Note(await applier.Ask<BatchAck>(new TruncateTable(commitLsn), AskTimeout, cancellationToken).ConfigureAwait(false));
        return !_paused;
    }

    public async Task PauseAsync(Lsn lsn, string cause, CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        Note(await applier.Ask<BatchAck>(new PauseTable(lsn, cause), AskTimeout, cancellationToken).ConfigureAwait(false));
    }

    public async Task<TableBatchOutcome> CommitAsync(Lsn routedThrough, CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        var outcome = await applier.Ask<TableBatchOutcome>(new CommitBatch(routedThrough), AskTimeout, cancellationToken).ConfigureAwait(false);
        if (outcome is TableBatchOutcome.Committed committed) _checkpoint = committed.Checkpoint;
        return outcome;
    }

    /// <summary>Sends the gathered chunk once the previous one is taken.</summary>
    private async Task SendChunkAsync(CancellationToken cancellationToken)
    {
        if (_inFlight is not null) Note(await _inFlight.ConfigureAwait(false));
        _inFlight = _chunk.Count == 0 ? null : applier.Ask<BatchAck>(new ApplyChanges(_chunk), AskTimeout, cancellationToken);
        // Sized for the chunk just sent: with wide rows a chunk ends long before chunkSize changes.
        _chunk = new List<CommittedChange>(Math.Min(chunkSize, Math.Max(16, _chunk.Count)));
        _chunkBytes = 0;
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        await SendChunkAsync(cancellationToken).ConfigureAwait(false);
        if (_inFlight is not null) Note(await _inFlight.ConfigureAwait(false));
        _inFlight = null;
    }

    private void Note(BatchAck ack)
    {
        if (!ack.Applying) _paused = true;
    }
}
