using System.Collections.Concurrent;
using Akka.Actor;
using DataSync.Core.Sync;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Changes;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// The stream's view of a <see cref="TableApplier"/> actor. Commands are told to the applier with a sequence number;
/// the applier answers each with an <see cref="ApplierAck"/> to <paramref name="acknowledgements"/> (the coordinator),
/// which hands it back here with <see cref="Acknowledge"/>. Changes go in chunks with one chunk in flight while the
/// next is gathered, so decoding and applying overlap while memory stays bounded: the stream waits for the
/// acknowledgement of the chunk before last, not for a timeout. A chunk ends at <paramref name="chunkSize"/> changes
/// or at about <paramref name="chunkBytes"/> bytes of row images, whichever comes first: wide rows (TOASTed values of
/// up to 1 GB) must not make a chunk of thousands of them.
/// </summary>
internal sealed class TableApplierSink(TableName table, IActorRef applier, IActorRef acknowledgements, int chunkSize = 4096,
    long chunkBytes = TableApplierSink.DefaultChunkBytes) : ITableSink
{
    /// <summary>
    /// 1 MiB: two chunks (one in flight, one gathered) hold about 2 MiB of row images. Measured on the memory
    /// benchmark (1 KB rows), 4096-row chunks held 9 MB; 1 MiB chunks of ~900 such rows cost no visible apply time.
    /// </summary>
    public const long DefaultChunkBytes = 1L << 20;

    // What a change costs besides its row images: the RowChange, its DecodedRows with their field arrays, the list slot.
    private const int ChangeOverhead = 160;

    private readonly ConcurrentDictionary<long, TaskCompletionSource<ApplierAck>> _pending = new();
    private long _sequence;
    private List<CommittedChange> _chunk = new(chunkSize);
    private long _chunkBytes;
    private Task<ApplierAck>? _inFlight;
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
        Note(await Send(s => new BeginBatch(checkpoint, timeline, s)).WaitAsync(cancellationToken).ConfigureAwait(false));
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
        Note(await Send(s => new TruncateTable(commitLsn, s)).WaitAsync(cancellationToken).ConfigureAwait(false));
        return !_paused;
    }

    public async Task<bool> AlterAsync(TableAlteredEvent altered, Lsn commitLsn, CancellationToken cancellationToken)
    {
        if (!Wants(commitLsn)) return false;
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        Note(await Send(s => new AlterTable(altered, commitLsn, s)).WaitAsync(cancellationToken).ConfigureAwait(false));
        return !_paused;
    }

    public async Task PauseAsync(Lsn lsn, string cause, CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        Note(await Send(s => new PauseTable(lsn, cause, s)).WaitAsync(cancellationToken).ConfigureAwait(false));
    }

    public async Task<TableBatchOutcome> CommitAsync(Lsn routedThrough, CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken).ConfigureAwait(false);
        var ack = await Send(s => new CommitBatch(routedThrough, s)).WaitAsync(cancellationToken).ConfigureAwait(false);
        var outcome = ack.Outcome ?? throw new InvalidOperationException($"the applier of {table} answered a commit without its outcome");
        if (outcome is TableBatchOutcome.Committed committed) _checkpoint = committed.Checkpoint;
        return outcome;
    }

    /// <summary>The applier's answer to a command of this sink (called on the coordinator's thread).</summary>
    public void Acknowledge(ApplierAck ack)
    {
        if (!_pending.TryRemove(ack.Sequence, out var waiting)) return;
        if (ack.Failure is { } failure) waiting.TrySetException(failure);
        else waiting.TrySetResult(ack);
    }

    /// <summary>The applier is gone (stopped, or its table left the list): every command waiting for it fails with <paramref name="cause"/>.</summary>
    public void Fail(Exception cause)
    {
        foreach (var sequence in _pending.Keys)
            if (_pending.TryRemove(sequence, out var waiting)) waiting.TrySetException(cause);
    }

    private Task<ApplierAck> Send(Func<long, ApplierCommand> command)
    {
        var sequence = Interlocked.Increment(ref _sequence);
        // Continuations run off the coordinator's thread: the stream's task must not run inside a message handler.
        var waiting = new TaskCompletionSource<ApplierAck>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[sequence] = waiting;
        applier.Tell(command(sequence), acknowledgements);
        return waiting.Task;
    }

    /// <summary>Sends the gathered chunk once the previous one is taken.</summary>
    private async Task SendChunkAsync(CancellationToken cancellationToken)
    {
        if (_inFlight is not null) Note(await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false));
        var chunk = _chunk;
        _inFlight = chunk.Count == 0 ? null : Send(s => new ApplyChanges(chunk, s));
        // Sized for the chunk just sent: with wide rows a chunk ends long before chunkSize changes.
        _chunk = new List<CommittedChange>(Math.Min(chunkSize, Math.Max(16, chunk.Count)));
        _chunkBytes = 0;
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        await SendChunkAsync(cancellationToken).ConfigureAwait(false);
        if (_inFlight is not null) Note(await _inFlight.WaitAsync(cancellationToken).ConfigureAwait(false));
        _inFlight = null;
    }

    private void Note(ApplierAck ack)
    {
        if (!ack.Applying) _paused = true;
    }
}
