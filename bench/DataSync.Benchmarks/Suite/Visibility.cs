using System.Diagnostics;
using Npgsql;

namespace DataSync.Benchmarks.Suite;

/// <summary>Polls a consumer's database until a boolean query says the workload's last change is visible there.</summary>
internal static class Visibility
{
    public static async Task<TimeSpan> WaitAsync(string connectionString, string condition, Stopwatch clock, TimeSpan timeout, string who, Func<string>? diagnostics = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(condition, connection) { CommandTimeout = 0 };
        var deadline = clock.Elapsed + timeout;
        while (true)
        {
            if ((bool)(await command.ExecuteScalarAsync())!) return clock.Elapsed;
            if (clock.Elapsed > deadline)
                throw new TimeoutException($"{who}: '{condition}' still false after {timeout.TotalMinutes:F0} min{(diagnostics is null ? "" : "\n" + diagnostics())}");
            await Task.Delay(25);
        }
    }

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
