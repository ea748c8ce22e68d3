using System.Collections.Frozen;
using DataSync.Messages;
using DataSync.Messages.Control;
using DataSync.Messages.Journal;

namespace DataSync.Actors.Serialization;

/// <summary>
/// The short, stable name each message travels and is journaled under. A name, once used, keeps its
/// meaning forever (journals outlive releases); renaming a .NET type never changes it.
/// </summary>
public static class MessageManifests
{
    public static readonly FrozenDictionary<Type, string> ByType = new Dictionary<Type, string>
    {
        [typeof(ControlHello)] = "ctl.hello",
        [typeof(ControlHelloReply)] = "ctl.hello-reply",
        [typeof(StatusRequest)] = "ctl.status",
        [typeof(StopRequest)] = "ctl.stop",
        [typeof(ClearRequest)] = "ctl.clear",
        [typeof(ResyncRequest)] = "ctl.resync",
        [typeof(AddTablesRequest)] = "ctl.add-tables",
        [typeof(RemoveTablesRequest)] = "ctl.remove-tables",
        [typeof(VerifyRequest)] = "ctl.verify",
        [typeof(VerifyProgressRequest)] = "ctl.verify-progress",
        [typeof(VerifyStarted)] = "ctl.verify-started",
        [typeof(VerifyProgressReply)] = "ctl.verify-progress-reply",
        [typeof(ControlReply)] = "ctl.reply",
        [typeof(StatusReply)] = "ctl.status-reply",
        [typeof(TableStatus)] = "ctl.table-status",
        [typeof(BootstrapProgressRequest)] = "ctl.bootstrap-progress",
        [typeof(BootstrapProgressReply)] = "ctl.bootstrap-progress-reply",
        [typeof(TableCheckpointJournaled)] = "journal.checkpoint",
    }.ToFrozenDictionary();

    public static readonly FrozenDictionary<string, Type> ByManifest = ByType.ToFrozenDictionary(p => p.Value, p => p.Key);

    /// <summary>Every concrete message type in the Messages assembly, which must each have a manifest.</summary>
    public static IEnumerable<Type> AllMessageTypes() =>
        typeof(IDataSyncMessage).Assembly.GetTypes()
            .Where(t => typeof(IDataSyncMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false });
}
