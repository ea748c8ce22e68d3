namespace DataSync.Actors.Pipeline;

/// <summary>
/// The bootstrapper's requests and its pacing, as plain state. Requests that arrive while an attempt runs, or
/// before the pause after a wait or a failure has passed, are gathered and covered by one later attempt, so no
/// sender (however often it asks) can start attempts sooner than the backoff allows. Each requester hears once,
/// when the attempt that covers its request ends.
/// </summary>
public sealed class BootstrapQueue<TRequester> where TRequester : notnull
{
    private readonly List<string> _tables = [];
    private readonly List<TRequester> _requesters = [];

    /// <summary>True from <see cref="TryStart"/> until <see cref="Ended"/>.</summary>
    public bool Running { get; private set; }

    /// <summary>No attempt starts before this time: the retry time of the last attempt that waited or failed.</summary>
    public DateTimeOffset NotBefore { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>When gathered requests wait only for the pause: the time a timer should bring the owner back; else null.</summary>
    public DateTimeOffset? WakeAt => !Running && _requesters.Count > 0 ? NotBefore : null;

    public void Add(IReadOnlyList<string> tables, TRequester requester)
    {
        foreach (var table in tables)
            if (!_tables.Contains(table, StringComparer.Ordinal)) _tables.Add(table);
        if (!_requesters.Contains(requester)) _requesters.Add(requester);
    }

    /// <summary>The gathered tables and requesters when an attempt may start at <paramref name="now"/> (they are taken); null otherwise.</summary>
    public (IReadOnlyList<string> Tables, IReadOnlyList<TRequester> Requesters)? TryStart(DateTimeOffset now)
    {
        if (Running || _requesters.Count == 0 || now < NotBefore) return null;
        Running = true;
        var taken = ((IReadOnlyList<string>)_tables.ToList(), (IReadOnlyList<TRequester>)_requesters.ToList());
        _tables.Clear();
        _requesters.Clear();
        return taken;
    }

    /// <summary>The attempt ended; <paramref name="retryAt"/> (after a wait or a failure) holds the next one back until then.</summary>
    public void Ended(DateTimeOffset? retryAt)
    {
        Running = false;
        NotBefore = retryAt ?? DateTimeOffset.MinValue;
    }
}
