namespace DataSync.Core.Sync;

/// <summary>
/// A pass of the stream failed (database down, archive unreadable, corrupt segment...) and was recorded in the failure
/// log; <see cref="NewCause"/> is true the first time this cause is met, when it deserves a log line of its own.
/// </summary>
public sealed class StreamFailedException(Exception inner, bool newCause) : Exception(inner.GetBaseException().Message, inner)
{
    public bool NewCause => newCause;
}
