using System.Diagnostics;
using Npgsql;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// The most a single session can get out of the local server for the update workload: the same updated rows
/// (their new images, read from production beforehand) applied again with the server's own set-based
/// update, one 10k-row round per transaction: binary COPY into a temporary stage, then
/// <c>UPDATE … FROM stage</c> by key. DataSync applies the same shape of SQL, so this bounds its update rows.
/// The values written are those the rows already hold, so the table stays identical to production.
/// </summary>
internal static class UpdateCeiling
{
    private const int Round = 10_000;

    private const string Columns = "id, grp, name, amount, version";

    private const string Update = "UPDATE bulk_rows t SET grp = s.grp, name = s.name, amount = s.amount, version = s.version FROM ceiling_stage s WHERE t.id = s.id";

    /// <summary>Times the rounds over bulk_rows' keys 1..<paramref name="rows"/> on <paramref name="localConnection"/>.</summary>
    public static async Task<TimeSpan> MeasureAsync(string productionConnection, string localConnection, int rows)
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

        await using var local = new NpgsqlConnection(localConnection);
        await local.OpenAsync();
        // The same starting point the consumers had: no dead rows from the updates they applied, nothing dirty.
        await ExecuteAsync(local, "VACUUM bulk_rows");
        await ExecuteAsync(local, "CHECKPOINT");
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
                // The plan the server picks (the stage is not analysed, as DataSync's is not) explains an outlier; not timed work to speak of.
                clock.Stop();
                plan = await PlanAsync(local, Update);
                Console.WriteLine("  ceiling round plan: " + plan);
                clock.Start();
            }

            await ExecuteAsync(local, Update);
            await ExecuteAsync(local, "TRUNCATE ceiling_stage");
            await transaction.CommitAsync();
        }

        var took = clock.Elapsed;
        await ExecuteAsync(local, "DROP TABLE ceiling_stage");
        return took;
    }

    private static async Task<string> PlanAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand("EXPLAIN " + sql, connection);
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
