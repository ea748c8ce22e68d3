using Npgsql;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// The catch-up scale rows' backlog: one table, a mix of changes in transactions large and small, the same
/// mix at every size. Of <c>changes</c> changed rows: half inserted and a quarter updated in 10k-row
/// transactions, a tenth in small transactions of 10 (4 inserts, 4 updates, 2 deletes) sent from several
/// connections at once, the rest deleted in 10k-row transactions, in that order; then one marker row.
/// Each backlog works in its own key range, so the sizes can follow one another on the same table.
/// </summary>
internal static class MixedBacklog
{
    public const string Ddl = "CREATE TABLE scale_rows (id bigint PRIMARY KEY, grp int NOT NULL, name text, amount numeric(12,2), version int NOT NULL);";

    public const string Table = "scale_rows";

    private const int LargeTransaction = 10_000;

    /// <summary>Keys of backlog <paramref name="run"/> lie above this; the key itself is its marker row, written last.</summary>
    public static long Base(int run) => (run + 1) * 10_000_000_000L;

    /// <summary>True once backlog <paramref name="run"/>'s marker, its last transaction, is visible.</summary>
    public static string Visible(int run) => $"SELECT EXISTS (SELECT 1 FROM scale_rows WHERE id = {Base(run)})";

    /// <summary>Rows a backlog of <paramref name="changes"/> changes exactly (the marker included), as <see cref="RunAsync"/> returns.</summary>
    public static long Changes(int changes)
    {
        var (inserts, updates, small, deletes) = Split(changes);
        return inserts + updates + 10 * small + deletes + 1;
    }

    private static (long Inserts, long Updates, long Small, long Deletes) Split(int changes)
    {
        long small = changes / 100; // transactions of 10 changes
        long inserts = changes / 2;
        long updates = changes / 4;
        return (inserts, updates, small, changes - inserts - updates - 10 * small);
    }

    /// <summary>Writes backlog <paramref name="run"/> with <paramref name="changes"/> changed rows (at least 100); returns the exact number.</summary>
    public static async Task<long> RunAsync(string connectionString, int run, int changes, int clients)
    {
        var key = Base(run);
        var (inserts, updates, small, deletes) = Split(changes);
        // Key ranges (relative to key): bulk inserts 1..inserts; bulk updates 1..updates; small updates above
        // them; small deletes from the top of the bulk inserts down; bulk deletes below those; small inserts above inserts.
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            for (var from = 1L; from <= inserts; from += LargeTransaction)
                await ExecuteAsync(connection, $"INSERT INTO scale_rows SELECT {key} + g, g % 100, 'row ' || g, g * 0.5, 0 FROM generate_series({from}, {Math.Min(inserts, from + LargeTransaction - 1)}) g");
            for (var from = 1L; from <= updates; from += LargeTransaction)
                await ExecuteAsync(connection, $"UPDATE scale_rows SET version = version + 1, amount = amount + 1 WHERE id BETWEEN {key + from} AND {key + Math.Min(updates, from + LargeTransaction - 1)}");
        }

        long next = -1;
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            for (long j; (j = Interlocked.Increment(ref next)) < small;)
            {
                var inserted = key + inserts + 4 * j;
                var updated = key + updates + 4 * j;
                var deleted = key + inserts - 2 * j;
                await ExecuteAsync(connection, $"""
                    INSERT INTO scale_rows SELECT g, 7, 'small ' || g, 1, 0 FROM generate_series({inserted + 1}, {inserted + 4}) g;
                    UPDATE scale_rows SET version = version + 1, name = 'small update' WHERE id BETWEEN {updated + 1} AND {updated + 4};
                    DELETE FROM scale_rows WHERE id BETWEEN {deleted - 1} AND {deleted};
                    """);
            }
        })));

        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            var top = key + inserts - 2 * small;
            for (var done = 0L; done < deletes; done += LargeTransaction)
                await ExecuteAsync(connection, $"DELETE FROM scale_rows WHERE id BETWEEN {top - Math.Min(deletes, done + LargeTransaction) + 1} AND {top - done}");
            await ExecuteAsync(connection, $"INSERT INTO scale_rows VALUES ({key}, 0, 'end of backlog {run}', 0, 0)");
        }

        return Changes(changes);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync();
    }
}
