namespace DataSync.Actors.Pipeline;

/// <summary>A scan of the archive failed (unreachable, unreadable, a segment that fails its checks); thrown by the watcher so that its backoff supervisor retries.</summary>
public sealed class ArchiveScanFailedException(string message, Exception inner) : Exception(message, inner);
