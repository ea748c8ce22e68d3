namespace DataSync.Messages;

/// <summary>
/// Marks every message the daemon and the CLI exchange or the daemon journals: all are immutable
/// records of plain data (no spans, no exceptions, no actor references), serialized by the
/// project's own JSON serializer with short, stable manifests.
/// </summary>
public interface IDataSyncMessage;
