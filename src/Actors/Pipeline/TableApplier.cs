using Akka.Actor;
using Akka.Event;
using DataSync.Core.Sync;
using DataSync.Messages.Journal;
using DataSync.Messages.Pipeline;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// One synced table's applier: owns the table's <see cref="TableBatch"/> (its local connection and open
/// batch) and answers the coordinator's batch commands one at a time. On any unexpected failure it answers
/// with the failure and restarts, which rolls the open batch back; the coordinator redoes the batch.
/// </summary>
public sealed class TableApplier : ReceiveActor
{
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TableBatch _batch;
    private readonly IActorRef _journal;
    private JournaledCheckpoint? _recovered;

    public TableApplier(TableBatch batch)
    {
        _batch = batch;
        _journal = Context.ActorOf(CheckpointJournal.Props(batch.Table.ToString()), "journal");
        _journal.Ask<JournaledCheckpoint>(JournaledCheckpointQuery.Instance, TimeSpan.FromSeconds(30)).PipeTo(Self);
        Receive<JournaledCheckpoint>(recovered => _recovered = recovered);
        Receive<Status.Failure>(failure => _log.Warning("the checkpoint journal of {Table} did not answer: {Cause}", batch.Table, failure.Cause.Message));
        ReceiveAsync<BeginBatch>(begin => Answer(async () =>
        {
            CompareWithJournal(begin.Checkpoint);
            await _batch.RollbackAsync().ConfigureAwait(false);
            await _batch.BeginAsync(begin.Checkpoint, begin.Timeline, CancellationToken.None).ConfigureAwait(false);
            return new BatchAck(true);
        }));
        ReceiveAsync<ApplyChanges>(apply => Answer(async () =>
        {
            foreach (var (change, commit) in apply.Changes)
                if (_batch.Wants(commit)) await _batch.AddAsync(change, commit, CancellationToken.None).ConfigureAwait(false);
            return new BatchAck(_batch.Paused is null);
        }));
        ReceiveAsync<TruncateTable>(truncate => Answer(async () =>
        {
            await _batch.TruncateAsync(truncate.CommitLsn, CancellationToken.None).ConfigureAwait(false);
            return new BatchAck(_batch.Paused is null);
        }));
        ReceiveAsync<PauseTable>(pause => Answer(async () =>
        {
            await _batch.PauseAsync(pause.Lsn, pause.Cause, CancellationToken.None).ConfigureAwait(false);
            return new BatchAck(false);
        }));
        ReceiveAsync<CommitBatch>(commit => Answer(async () =>
        {
            var outcome = await _batch.CommitAsync(commit.RoutedThrough, CancellationToken.None).ConfigureAwait(false);
            if (outcome is TableBatchOutcome.Committed committed)
                _journal.Tell(new JournalCheckpoint(new TableCheckpointJournaled(batch.Table.ToString(), committed.Checkpoint.ToString(), committed.ArchiveFile, committed.Counts.Total)));
            // A pause is logged once, by the coordinator, which hears of every table's outcome.
            return outcome;
        }));
    }

    /// <summary>An actor name for the table that no identifier can break: a hash, with a readable prefix.</summary>
    public static string ActorName(DataSync.Core.Tables.TableName table)
    {
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(table.ToString())))[..12].ToLowerInvariant();
        var readable = new string(table.ToString().Where(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.').Take(40).ToArray());
        return $"table-{readable}-{hash}";
    }

    public static Props Props(TableBatch batch) => Akka.Actor.Props.Create(() => new TableApplier(batch));

    /// <summary>Once, after a start: the journal may lag the database (a kill between the two writes); the database's checkpoint is the one used.</summary>
    private void CompareWithJournal(DataSync.Wal.Lsn database)
    {
        if (_recovered is not { Last: { } last }) return;
        _recovered = null;
        if (last.CheckpointLsn != database.ToString())
            _log.Info("table {Table}: the checkpoint journal says {Journaled}, the database {Database}; the database's checkpoint wins", _batch.Table, last.CheckpointLsn, database);
    }

    protected override void PostStop() => _batch.DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task Answer(Func<Task<object>> work)
    {
        var sender = Sender;
        try
        {
            sender.Tell(await work().ConfigureAwait(false));
        }
        catch (Exception e)
        {
            // The asker learns at once; the restart that follows drops the open batch.
            sender.Tell(new Status.Failure(e));
            throw;
        }
    }
}
