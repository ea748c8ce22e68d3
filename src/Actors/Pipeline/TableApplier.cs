using Akka.Actor;
using Akka.Event;
using DataSync.Core.Sync;
using DataSync.Messages.Journal;
using DataSync.Wal;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// One synced table's applier: owns the table's <see cref="TableBatch"/> (its local connection and open batch) and
/// carries out the stream's commands one at a time, answering each with an <see cref="ApplierAck"/> to its sender. On
/// any unexpected failure it answers with the failure and restarts, which rolls the open batch back; the stream fails
/// its pass and starts again from the database's checkpoints.
/// <para>
/// The checkpoint journal starts late: its first use costs the SQL journal's whole library set-up (some thousands of
/// methods compiled, seconds of CPU on a small machine), and at a daemon's start that would fall in the middle of the
/// catch-up it is there to serve. The journal is a second record (the database's checkpoint, committed with the rows,
/// is the one that counts), so it waits for the stream's first quiet moment, or <see cref="JournalAtTheLatest"/>,
/// and is then told the newest checkpoint committed meanwhile.
/// </para>
/// </summary>
internal sealed class TableApplier : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TableBatch _batch;
    private readonly ICancelable _journalDeadline;
    private IActorRef? _journal;
    private JournalCheckpoint? _unjournaled;
    private Lsn? _startCheckpoint;
    private bool _journalStarting;

    public TableApplier(TableBatch batch)
    {
        _batch = batch;
        _journalDeadline = Context.System.Scheduler.ScheduleTellOnceCancelable(JournalAtTheLatest, Self, StartJournal.Instance, Self);
        Receive<StartJournal>(_ => StartJournalOnce());
        Receive<JournaledCheckpoint>(recovered => CompareWithJournal(recovered));
        ReceiveAsync<BeginBatch>(begin => Answer(begin, async () =>
        {
            _startCheckpoint ??= begin.Checkpoint;
            await _batch.RollbackAsync().ConfigureAwait(false);
            await _batch.BeginAsync(begin.Checkpoint, begin.Timeline, CancellationToken.None).ConfigureAwait(false);
            return Ack(begin, true);
        }));
        ReceiveAsync<ApplyChanges>(apply => Answer(apply, async () =>
        {
            foreach (var (change, commit) in apply.Changes)
                if (_batch.Wants(commit)) await _batch.AddAsync(change, commit, CancellationToken.None).ConfigureAwait(false);
            return Ack(apply, _batch.Paused is null);
        }));
        ReceiveAsync<TruncateTable>(truncate => Answer(truncate, async () =>
        {
            await _batch.TruncateAsync(truncate.CommitLsn, CancellationToken.None).ConfigureAwait(false);
            return Ack(truncate, _batch.Paused is null);
        }));
        ReceiveAsync<AlterTable>(alter => Answer(alter, async () =>
        {
            var applying = await _batch.AlterAsync(alter.Altered, alter.CommitLsn, CancellationToken.None).ConfigureAwait(false);
            if (applying) _log.Info("table {Table}: {Altered}, applied to the local table", _batch.Table, string.Join("; ", alter.Altered.Alterations));
            return Ack(alter, _batch.Paused is null);
        }));
        ReceiveAsync<PauseTable>(pause => Answer(pause, async () =>
        {
            await _batch.PauseAsync(pause.Lsn, pause.Cause, CancellationToken.None).ConfigureAwait(false);
            return Ack(pause, false);
        }));
        ReceiveAsync<CommitBatch>(commit => Answer(commit, async () =>
        {
            var outcome = await _batch.CommitAsync(commit.RoutedThrough, CancellationToken.None).ConfigureAwait(false);
            if (outcome is TableBatchOutcome.Committed committed)
                Journal(new JournalCheckpoint(new TableCheckpointJournaled(batch.Table.ToString(), committed.Checkpoint.ToString(), committed.ArchiveFile, committed.Counts.Total)));
            // A pause is logged once, by the coordinator, which hears of every table's outcome.
            return Ack(commit, outcome is not TableBatchOutcome.Paused) with { Outcome = outcome };
        }));
    }

    /// <summary>An actor name for the table that no identifier can break: a hash, with a readable prefix.</summary>
    public static string ActorName(DataSync.Core.Tables.TableName table)
    {
        var hash = table.Digest(12);
        var readable = new string(table.ToString().Where(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.').Take(40).ToArray());
        return $"table-{readable}-{hash}";
    }

    public static Props Props(TableBatch batch) => Akka.Actor.Props.Create(() => new TableApplier(batch));

    /// <summary>How long after its start an applier that was not told to (<see cref="StartJournal"/>) starts its journal anyway.</summary>
    public static TimeSpan JournalAtTheLatest { get; } = TimeSpan.FromSeconds(60);

    private void StartJournalOnce()
    {
        _journalDeadline.Cancel();
        if (_journal is not null) return;
        // Once the daemon stops, no journal begins: the database's checkpoint is the one that counts.
        if (!JournalStarts.Get(Context.System).TryBegin()) return;
        _journalStarting = true;
        _journal = Context.ActorOf(CheckpointJournal.Props(_batch.Table.ToString()), "journal");
        // The reply comes after recovery and before the checkpoint told next, which the journal takes in order.
        _journal.Tell(JournaledCheckpointQuery.Instance);
        if (_unjournaled is { } pending) _journal.Tell(pending);
        _unjournaled = null;
    }

    /// <summary>Journals a committed checkpoint, or keeps the newest one until the journal starts.</summary>
    private void Journal(JournalCheckpoint checkpoint)
    {
        if (_journal is null) _unjournaled = checkpoint;
        else _journal.Tell(checkpoint);
    }

    /// <summary>Once, after a start: the journal may lag the database (a kill between the two writes); the database's checkpoint is the one used.</summary>
    private void CompareWithJournal(JournaledCheckpoint recovered)
    {
        JournalStarted();
        Context.Parent.Tell(JournalReady.Instance);
        if (recovered.Last is not { } last || _startCheckpoint is not { } database) return;
        if (last.CheckpointLsn != database.ToString())
            _log.Info("table {Table}: the checkpoint journal says {Journaled}, the database {Database}; the database's checkpoint wins", _batch.Table, last.CheckpointLsn, database);
    }

    /// <summary>
    /// The batch's connection is closed without holding up the stop: the actor is gone already, and a rollback of
    /// an open batch on a slow or unreachable server must not block the dispatcher thread.
    /// </summary>
    protected override void PostStop()
    {
        _journalDeadline.Cancel();
        JournalStarted();
        var log = _log;
        var table = _batch.Table;
        _ = _batch.DisposeAsync().AsTask().ContinueWith(t => log.Warning("closing the local connection of {Table}: {Cause}", table, t.Exception!.GetBaseException().Message),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>
    /// A restart keeps the batch object (the next BeginBatch rolls its open transaction back) and only stops the journal
    /// child, which the new instance makes again: disposing the batch here would race the new instance's first command.
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        _journalDeadline.Cancel();
        JournalStarted();
        foreach (var child in Context.GetChildren())
        {
            Context.Unwatch(child);
            Context.Stop(child);
        }
    }

    /// <summary>After a failure the journal's set-up is paid already: the new instance starts its journal at once.</summary>
    protected override void PostRestart(Exception reason)
    {
        base.PostRestart(reason);
        Self.Tell(StartJournal.Instance);
    }

    /// <summary>The journal begun here has answered, or is being stopped: a stop need not wait for it.</summary>
    private void JournalStarted()
    {
        if (!_journalStarting) return;
        _journalStarting = false;
        JournalStarts.Get(Context.System).Ended();
    }

    private ApplierAck Ack(ApplierCommand command, bool applying) => new(_batch.Table, command.Sequence, applying);

    private async Task Answer(ApplierCommand command, Func<Task<ApplierAck>> work)
    {
        var sender = Sender;
        try
        {
            sender.Tell(await work().ConfigureAwait(false));
        }
        catch (Exception e)
        {
            // The stream learns at once; the restart that follows drops the open batch.
            sender.Tell(new ApplierAck(_batch.Table, command.Sequence, false, Failure: e));
            throw;
        }
    }
}
