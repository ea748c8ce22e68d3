using Akka.Event;
using Akka.Persistence;
using DataSync.Messages.Journal;

namespace DataSync.Actors.Pipeline;

/// <summary>
/// Journals one table's checkpoints with Akka.Persistence (SQL journal in the local database). A child
/// of the table's applier, told after each committed batch; the applier never waits on it, and if the
/// journal fails only this child stops: the checkpoint in the database, committed with the rows, is the
/// one that counts. Older entries are deleted as new ones land, so the journal stays small.
/// </summary>
public sealed class CheckpointJournal : ReceivePersistentActor
{
    private const int KeepEvery = 50;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private TableCheckpointJournaled? _last;

    public CheckpointJournal(string table)
    {
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

    public static Akka.Actor.Props Props(string table) => Akka.Actor.Props.Create(() => new CheckpointJournal(table));
}
