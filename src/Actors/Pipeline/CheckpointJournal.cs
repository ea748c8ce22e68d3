using Akka.Event;
using Akka.Persistence;
using DataSync.Messages.Journal;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Journals one table's checkpoints with Akka.Persistence (SQL journal in the local database). A child
/// of the table's applier, told after each committed batch; the applier never waits on it. The checkpoint
/// in the database, committed with the rows, is the one that counts, so a journal that fails a write or its
/// recovery costs nothing but journal entries: it says so in the log and stops, its backoff supervisor
/// (<see cref="Props"/>) starts it again after a pause, and the applier goes on meanwhile. Older entries are
/// deleted as new ones land, so the journal stays small.
/// </summary>
public sealed class CheckpointJournal : ReceivePersistentActor
{
    private const int KeepEvery = 50;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly string _table;
    private TableCheckpointJournaled? _last;

    public CheckpointJournal(string table)
    {
        _table = table;
        PersistenceId = "datasync-table-checkpoint/" + table;
        Recover<TableCheckpointJournaled>(e => _last = e);
        Command<JournalCheckpoint>(command => Persist(command.Event, persisted =>
        {
            _last = persisted;
            if (LastSequenceNr % KeepEvery == 0) DeleteMessages(LastSequenceNr - 1);
        }));
        Command<JournaledCheckpointQuery>(_ => Sender.Tell(new JournaledCheckpoint(_last), Self));
        Command<DeleteMessagesSuccess>(_ => { });
        Command<DeleteMessagesFailure>(f => _log.Warning("could not trim the checkpoint journal of {Table}: {Cause}", table, f.Cause.Message));
    }

    public override string PersistenceId { get; }

    /// <summary>The daemon's backoff for a journal that stopped on a failure: one second, growing to a minute.</summary>
    public static SupervisionBackoff RestartBackoff { get; } = new(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), 0.2);

    /// <summary>The journal of <paramref name="table"/> under a supervisor that starts it again after <paramref name="backoff"/> when it stops on a failure; messages to it pass through.</summary>
    public static Akka.Actor.Props Props(string table, SupervisionBackoff? backoff = null) =>
        (backoff ?? RestartBackoff).OnStop(Unsupervised(table), "checkpoint-journal");

    public static Akka.Actor.Props Unsupervised(string table) => Akka.Actor.Props.Create(() => new CheckpointJournal(table));

    // After either override Akka.Persistence stops this actor; the supervisor above brings it back.
    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr) =>
        _log.Warning("the checkpoint journal of {Table} could not write {Checkpoint} ({Cause}); the database's checkpoint, committed with the rows, is unaffected; " +
            "the journal starts again after a pause", _table, (@event as TableCheckpointJournaled)?.CheckpointLsn, cause.GetBaseException().Message);

    protected override void OnRecoveryFailure(Exception reason, object? message = null) =>
        _log.Warning("the checkpoint journal of {Table} could not be read back ({Cause}); the database's checkpoint is the one used; the journal starts again after a pause",
            _table, reason.GetBaseException().Message);
}
