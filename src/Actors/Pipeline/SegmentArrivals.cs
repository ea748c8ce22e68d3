namespace DataSync.Actors.Pipeline;

/// <summary>
/// Relays "a segment landed in the spool" from whatever fetches (a scan, or the daemon's first fetch started before
/// the actor system) to whoever listens (the archive watcher, which tells the coordinator), so the stream reads the
/// first segment of a backlog while later ones are still fetched. Arrivals before anyone listens are remembered as
/// one, told when the listener comes.
/// </summary>
public sealed class SegmentArrivals
{
    private readonly Lock _lock = new();
    private Action? _listener;
    private bool _missed;

    /// <summary>Called after a segment is spooled, on the fetching thread.</summary>
    public void Arrived()
    {
        Action? listener;
        lock (_lock)
        {
            listener = _listener;
            if (listener is null) _missed = true;
        }

        listener?.Invoke();
    }

    /// <summary>Makes <paramref name="listener"/> the one told (replacing any earlier one); told at once if segments came before.</summary>
    public void Listen(Action listener)
    {
        bool missed;
        lock (_lock)
        {
            _listener = listener;
            missed = _missed;
            _missed = false;
        }

        if (missed) listener();
    }
}
