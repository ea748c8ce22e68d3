using System.Globalization;
using DataSync.Core.Tables;
using Npgsql;

namespace DataSync.Core.Sync;

/// <summary>
/// Says when a table's apply session waits for a lock that a local session holds. The apply waits as long as the local
/// server makes it (no client-side timeout: a large table's TRUNCATE or ALTER may rightly wait), and changes go in
/// commit order, so every table waits with it while only the lag shows it. While a batch is open, a second connection
/// looks at the apply session every <c>interval</c>; when it has been waiting for a lock, the report names the sessions
/// that hold it: pid, user, application, client, state and since when their transaction runs. Never their statements,
/// which may carry production's values or a password.
/// </summary>
/// <remarks>
/// Reported after one interval of waiting, then at two, four, eight… intervals of the same wait, so a session left
/// open over a weekend makes a few lines, not thousands. A look that fails (the local server is away) is skipped: the
/// apply itself reports that.
/// </remarks>
public sealed class LocalLockWatch : IAsyncDisposable
{
    private readonly NpgsqlDataSource _local;
    private readonly TableName _table;
    private readonly int _applyPid;
    private readonly TimeSpan _interval;
    private readonly Action<string> _report;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;

    private LocalLockWatch(NpgsqlDataSource local, TableName table, int applyPid, TimeSpan interval, Action<string> report)
    {
        _local = local;
        _table = table;
        _applyPid = applyPid;
        _interval = interval;
        _report = report;
        _watching = Task.Run(() => WatchAsync(_stop.Token));
    }

    /// <summary>Starts watching the apply session whose backend is <paramref name="applyPid"/>, until disposed.</summary>
    public static LocalLockWatch Start(NpgsqlDataSource local, TableName table, int applyPid, TimeSpan interval, Action<string> report) =>
        new(local, table, applyPid, interval, report);

    private async Task WatchAsync(CancellationToken stop)
    {
        var nextReport = 1;
        var waits = 0;
        try
        {
            // The local server is polled until the batch ends (the token), like the daemon lock's keeper polls it.
            using var timer = new PeriodicTimer(_interval);
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var (waited, holders) = await LookAsync(stop).ConfigureAwait(false);
                if (holders.Count == 0)
                {
                    waits = 0;
                    nextReport = 1;
                    continue;
                }

                if (++waits < nextReport) continue;
                nextReport *= 2;
                _report($"table {_table}: its apply has waited {waited.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s for a lock held by local " +
                    $"{(holders.Count == 1 ? "session" : "sessions")} {string.Join("; ", holders)}. Every table waits with it (changes are applied in " +
                    "commit order): end that transaction or session (see the readme, \"Local sessions that hold a synced table\")");
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The batch ended.
        }
        catch (Exception e)
        {
            // A watch must never break the apply it watches: it says it stopped, and the batch goes on.
            _report($"table {_table}: lock waits of its apply are no longer watched in this batch: {e.Message}");
        }
    }

    /// <summary>How long the apply session's statement has run, and the sessions it waits for; none when it is not waiting for a lock.</summary>
    private async Task<(TimeSpan Waited, List<string> Holders)> LookAsync(CancellationToken stop)
    {
        const string sql = """
            SELECT h.pid, coalesce(h.usename::text, ''), coalesce(h.application_name, ''), coalesce(host(h.client_addr), 'local socket'),
                   coalesce(h.state, ''), to_char(h.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), extract(epoch FROM now() - w.query_start)::float8
            FROM pg_stat_activity w
            CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS b(pid)
            JOIN pg_stat_activity h ON h.pid = b.pid
            WHERE w.pid = $1 AND w.wait_event_type = 'Lock'
            ORDER BY h.pid
            """;
        var holders = new List<string>();
        var waited = TimeSpan.Zero;
        try
        {
            await using var command = _local.CreateCommand(sql);
            command.Parameters.Add(new NpgsqlParameter { Value = _applyPid });
            await using var reader = await command.ExecuteReaderAsync(stop).ConfigureAwait(false);
            while (await reader.ReadAsync(stop).ConfigureAwait(false))
            {
                var who = $"user {Shown(reader.GetString(1))}, application {Shown(reader.GetString(2))}, client {reader.GetString(3)}";
                var since = reader.IsDBNull(5) ? "" : $", transaction since {reader.GetString(5)} UTC";
                holders.Add(string.Create(CultureInfo.InvariantCulture, $"pid {reader.GetInt32(0)} ({who}, {Shown(reader.GetString(4))}{since})"));
                waited = TimeSpan.FromSeconds(reader.GetDouble(6));
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !stop.IsCancellationRequested)
        {
            // The local server is away or busy; the apply reports that, and the next look tries again.
        }

        return (waited, holders);
    }

    // Names and application names are the local sessions' own; quoted, with what cannot be printed left out.
    private static string Shown(string text) => text.Length == 0 ? "(none)" : $"\"{new string(text.Where(c => !char.IsControl(c)).Take(64).ToArray())}\"";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _watching.ConfigureAwait(false);
        _stop.Dispose();
    }
}
