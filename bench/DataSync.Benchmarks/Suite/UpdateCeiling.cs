using System.Diagnostics;
using Npgsql;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// The most a single session can get out of the local server for the update workload: the same updated rows
/// (their new images, read from production beforehand) applied again with the server's own set-based
/// update, one 10k-row round per transaction: binary COPY into a temporary stage, then
/// <c>UPDATE … FROM stage</c> by key: the server's own set-based update, for reference. DataSync applies updates by a
/// one-column key as replacements where it can (DELETE by key array, COPY of the images), so it is no longer a bound.
/// Timed twice: with the plan the server picks for an unanalysed stage (as DataSync's is), and with hash and
/// merge joins turned off so each staged row finds its target through the key's index; the faster is the ceiling.
/// The values written are those the rows already hold, so the table stays identical to production.
/// </summary>
internal static class UpdateCeiling
{
    private const int Round = 10_000;

    private const string Columns = "id, grp, name, amount, version";

    private const string Update = "UPDATE bulk_rows t SET grp = s.grp, name = s.name, amount = s.amount, version = s.version FROM ceiling_stage s WHERE t.id = s.id";

    /// <summary>One timing: how long the rounds took and the plan of the first (EXPLAIN, one line).</summary>
    public sealed record Timing(TimeSpan Took, string Plan);

    /// <summary>The server's own plan and the index plan, over bulk_rows' keys 1..rows.</summary>
    public sealed record Result(Timing ServerPlan, Timing IndexPlan)
    {
        public TimeSpan Best => ServerPlan.Took < IndexPlan.Took ? ServerPlan.Took : IndexPlan.Took;
    }

    public static async Task<Result> MeasureAsync(string productionConnection, string localConnection, int rows)
    {
        // Each round's rows as production's binary COPY output, so the timing holds the local server's work alone.
        var rounds = new List<byte[]>();
        await using (var production = new NpgsqlConnection(productionConnection))
        {
            await production.OpenAsync();
            for (var from = 1; from <= rows; from += Round)
            {
                await using var copy = await production.BeginRawBinaryCopyAsync(
                    $"COPY (SELECT {Columns} FROM bulk_rows WHERE id BETWEEN {from} AND {Math.Min(rows, from + Round - 1)}) TO STDOUT (FORMAT binary)");
                using var buffer = new MemoryStream();
                await copy.CopyToAsync(buffer);
                rounds.Add(buffer.ToArray());
            }
        }

        var serverPlan = await TimeAsync(localConnection, rounds, indexPlan: false);
        var indexPlan = await TimeAsync(localConnection, rounds, indexPlan: true);
        return new Result(serverPlan, indexPlan);
    }

    private static async Task<Timing> TimeAsync(string localConnection, IReadOnlyList<byte[]> rounds, bool indexPlan)
    {
        await using var local = new NpgsqlConnection(localConnection);
        await local.OpenAsync();
        // The same starting point the consumers had: no dead rows from the updates applied before, nothing dirty.
        await ExecuteAsync(local, "VACUUM bulk_rows");
        await ExecuteAsync(local, "CHECKPOINT");
        if (indexPlan) await ExecuteAsync(local, "SET enable_hashjoin = off; SET enable_mergejoin = off");
        await ExecuteAsync(local, $"CREATE TEMP TABLE ceiling_stage AS SELECT {Columns} FROM bulk_rows WITH NO DATA");
        var clock = Stopwatch.StartNew();
        string? plan = null;
        foreach (var round in rounds)
        {
            await using var transaction = await local.BeginTransactionAsync();
            await using (var copy = await local.BeginRawBinaryCopyAsync($"COPY ceiling_stage ({Columns}) FROM STDIN (FORMAT binary)"))
                await copy.WriteAsync(round);
            if (plan is null)
            {
                // The plan explains the time; planning alone is not timed work to speak of, but it is left out anyway.
                clock.Stop();
                plan = await PlanAsync(local, Update);
                Console.WriteLine($"  ceiling, {(indexPlan ? "index plan" : "server's plan")}, first round: {plan}");
                clock.Start();
            }

            await ExecuteAsync(local, Update);
            await ExecuteAsync(local, "TRUNCATE ceiling_stage");
            await transaction.CommitAsync();
        }

        var took = clock.Elapsed;
        await ExecuteAsync(local, "DROP TABLE ceiling_stage");
        return new Timing(took, plan ?? "(no rounds)");
    }

    private static async Task<string> PlanAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand("EXPLAIN (COSTS OFF) " + sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync()) lines.Add(reader.GetString(0).Trim());
        return string.Join(" / ", lines);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }
}
