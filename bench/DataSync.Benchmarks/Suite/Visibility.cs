using System.Diagnostics;
using Npgsql;

namespace DataSync.Benchmarks.Suite;

/// <summary>Polls a consumer's database until a boolean query says the workload's last change is visible there.</summary>
internal static class Visibility
{
    /// <summary>DataSync's own verdict, as a user sees it: FAILED rows in data_sync_logs (a paused table never catches up).</summary>
    public const string DataSyncFailures =
        "SELECT string_agg(table_name || ': ' || coalesce(error_detail, ''), ' | ') FROM data_sync_logs WHERE status = 'FAILED'";

    /// <param name="failure">When given, a query returning text (or NULL) that is checked every half second; text ends the wait with that message.</param>
    public static async Task<TimeSpan> WaitAsync(string connectionString, string condition, Stopwatch clock, TimeSpan timeout, string who, Func<string>? diagnostics = null, string? failure = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(condition, connection) { CommandTimeout = 0 };
        await using var failed = failure is null ? null : new NpgsqlCommand(failure, connection);
        var deadline = clock.Elapsed + timeout;
        for (var poll = 0; ; poll++)
        {
            if ((bool)(await command.ExecuteScalarAsync())!) return clock.Elapsed;
            if (failed is not null && poll % 20 == 0 && await FailureAsync(failed) is { } reason)
                throw new SyncFailedException($"{who}: {reason}");
            if (clock.Elapsed > deadline)
                throw new TimeoutException($"{who}: '{condition}' still false after {timeout.TotalMinutes:F0} min{(diagnostics is null ? "" : "\n" + diagnostics())}");
            await Task.Delay(25);
        }
    }

    private static async Task<string?> FailureAsync(NpgsqlCommand failed)
    {
        try
        {
            return await failed.ExecuteScalarAsync() as string;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return null; // the daemon has not created its tables yet
        }
    }

    /// <summary>Thrown when DataSync reports a failure while the suite waits for it.</summary>
    public sealed class SyncFailedException(string message) : Exception(message);

    /// <summary>Count and an order-free hash of every row's text: equal on both sides means the same rows.</summary>
    public static string FingerprintSql(string table) =>
        $"SELECT count(*)::text || ' rows, hash ' || coalesce(sum(hashtext(t::text)::bigint), 0)::text FROM {table} t";

    public static async Task<string> FingerprintAsync(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(FingerprintSql(table), connection) { CommandTimeout = 0 };
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
