using DataSync.Embedded;
using DataSync.TestRig;

namespace DataSync.Core.Tests.Acceptance;

/// <summary>Compares synced tables on production and locally by the md5 of their rows in key order, and reads the daemon's per-table logs.</summary>
internal static class SyncedTables
{
    /// <summary>A table and the columns that order its rows (its key).</summary>
    public sealed record Table(string Name, string OrderBy);

    public static string ChecksumSql(Table table) =>
        $"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY {table.OrderBy}), '')) FROM \"{table.Name}\" t";

    /// <summary>The tables that still differ from production.</summary>
    public static async Task<List<string>> DifferentAsync(EmbeddedProduction production, LocalCluster local, IEnumerable<Table> tables)
    {
        var different = new List<string>();
        foreach (var table in tables)
            if (await production.QueryScalarAsync<string>(ChecksumSql(table)) != await local.QueryScalarAsync<string>(ChecksumSql(table)))
                different.Add(table.Name);
        return different;
    }

    /// <summary>
    /// Waits until every table is identical to production; fails naming the ones that are not, with the FAILED logs and the
    /// daemon's log. With <paramref name="failedEndsWait"/>, fails as soon as the daemon logs a FAILED row (a paused table
    /// would never catch up) instead of at the timeout.
    /// </summary>
    public static async Task WaitIdenticalAsync(EmbeddedProduction production, LocalCluster local, IReadOnlyList<Table> tables, DaemonRun daemon, TimeSpan timeout,
        bool failedEndsWait = false)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var different = await DifferentAsync(production, local, tables);
            if (different.Count == 0) return;
            var failedLogged = failedEndsWait && await local.QueryScalarAsync<bool>("SELECT EXISTS (SELECT FROM data_sync_logs WHERE status = 'FAILED')");
            if (failedLogged || DateTime.UtcNow > deadline)
            {
                var failed = await local.QueryScalarAsync<string>(
                    "SELECT coalesce(string_agg(table_name || ': ' || coalesce(error_detail, ''), E'\\n'), '') FROM data_sync_logs WHERE status = 'FAILED'");
                var when = failedLogged ? "and the daemon logged a failure" : $"after {timeout.TotalSeconds} s";
                Assert.Fail($"not identical to production {when}: {string.Join(", ", different)}\nFAILED logs:\n{failed}{daemon.LogTail()}");
            }

            await Task.Delay(500);
        }
    }

    /// <summary>The row changes the daemon logged as applied (SUCCESS rows) for a table.</summary>
    public static Task<long> RowsSyncedAsync(LocalCluster local, string table) =>
        local.QueryScalarAsync<long>($"SELECT coalesce(sum(rows_synced), 0) FROM data_sync_logs WHERE status = 'SUCCESS' AND table_name = 'public.{table}'");
}
