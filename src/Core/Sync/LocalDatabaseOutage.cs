using System.Globalization;
using DataSync.Core.Configuration;
using DataSync.Core.Local;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// A spell of the local database being unreachable, as the sync's parts meet it. Nothing can be written to
/// data_sync_logs meanwhile, so the outage is remembered here and logged once the database answers again: one
/// FAILED row saying when it went away, for how long, what failed meanwhile and how often. Nothing is lost
/// by it: every table's checkpoint commits with its rows, so the sync resumes where each table stood.
/// </summary>
public sealed class LocalDatabaseOutage(DataSyncSettings settings)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _failed = [];
    private DateTimeOffset? _since;
    private DateTimeOffset _lastSeen;
    private string? _cause;

    /// <summary>True while an outage has been met and not yet logged.</summary>
    public bool Active
    {
        get
        {
            lock (_gate) return _since is not null;
        }
    }

    /// <summary>
    /// True for errors that mean the local server cannot be reached or has gone away (no connection, a refused
    /// or dropped one, a server shutting down or starting), as opposed to an error in what was asked of it.
    /// </summary>
    public static bool IsOutage(Exception error)
    {
        foreach (var e in Chain(error))
        {
            switch (e)
            {
                case PostgresException p:
                    // 08: connection exceptions; 57P01-57P03: the server shuts down, crashed, or cannot take connections yet.
                    return p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState is "57P01" or "57P02" or "57P03";
                case NpgsqlException:
                    return true;
            }
        }

        return false;
    }

    /// <summary>Notes that <paramref name="what"/> (a part's work, e.g. "archive pass") failed because the database was unreachable.</summary>
    public void Met(string what, Exception error)
    {
        lock (_gate)
        {
            var now = DateTimeOffset.UtcNow;
            _since ??= now;
            _lastSeen = now;
            _cause ??= LocalDatabase.Unreachable(Chain(error).FirstOrDefault(e => e is NpgsqlException) ?? error, settings);
            _failed[what] = _failed.GetValueOrDefault(what) + 1;
        }
    }

    /// <summary>
    /// Called after a part used the database successfully: writes the FAILED row for the outage that ended, if one
    /// was met. Returns the row's text when it wrote one; the outage stays remembered when writing fails.
    /// </summary>
    public async Task<string?> EndedAsync(NpgsqlDataSource local, CancellationToken cancellationToken)
    {
        DateTimeOffset since, lastSeen;
        string cause, failed;
        lock (_gate)
        {
            if (_since is null) return null;
            since = _since.Value;
            lastSeen = _lastSeen;
            cause = _cause!;
            failed = string.Join(", ", _failed.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key} ×{f.Value}"));
        }

        var back = DateTimeOffset.UtcNow;
        var text = string.Create(CultureInfo.InvariantCulture,
            $"the local database was unreachable from {since:yyyy-MM-dd HH:mm:ss} UTC (first failure) to {back:yyyy-MM-dd HH:mm:ss} UTC (back), " +
            $"{(back - since).TotalSeconds:F0} s, last failure at {lastSeen:HH:mm:ss} UTC: {cause}. Failed meanwhile: {failed}. " +
            $"Nothing is lost: each table resumed from its own checkpoint. If it recurs, check the local server (its log, disk space, restarts)");
        await using var connection = await local.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        int occurrences;
        lock (_gate) occurrences = _failed.Values.Sum();
        await FailureLog.InsertAsync(connection, FailureLog.EveryTable, null, null, FailureLog.Detail(since, FailureLog.EveryTable, null, null, text),
            "local database unreachable", occurrences, lastSeen, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            // Failures met while the row was written belong to it too; a new outage starts afresh.
            _since = null;
            _cause = null;
            _failed.Clear();
        }

        return text;
    }

    /// <summary>An error and its causes, those of an aggregate included.</summary>
    internal static IEnumerable<Exception> Chain(Exception error)
    {
        var pending = new Stack<Exception>([error]);
        while (pending.Count > 0)
        {
            var e = pending.Pop();
            yield return e;
            if (e is AggregateException aggregate)
                foreach (var inner in aggregate.InnerExceptions) pending.Push(inner);
            else if (e.InnerException is not null) pending.Push(e.InnerException);
        }
    }
}
