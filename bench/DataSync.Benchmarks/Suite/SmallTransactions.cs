using System.Diagnostics;
using Npgsql;

namespace DataSync.Benchmarks.Suite;

/// <summary>
/// pgbench's TPC-B-like transaction (update an account, read it back, update its teller and branch,
/// append a history row), sent from several connections through Npgsql: the package has no pgbench.
/// Each transaction is one batch, so one round trip and one implicit transaction.
/// </summary>
internal static class SmallTransactions
{
    public const string Ddl = """
        CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int NOT NULL, filler char(88));
        CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int NOT NULL, tbalance int NOT NULL, filler char(84));
        CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler char(84));
        CREATE TABLE pgbench_history (hid bigserial PRIMARY KEY, tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
        """;

    public static readonly string[] Tables = ["pgbench_branches", "pgbench_tellers", "pgbench_accounts", "pgbench_history"];

    public static string Load(int scale) => $"""
        INSERT INTO pgbench_branches SELECT g, 0, '' FROM generate_series(1, {scale}) g;
        INSERT INTO pgbench_tellers SELECT g, (g - 1) / 10 + 1, 0, '' FROM generate_series(1, {10 * scale}) g;
        INSERT INTO pgbench_accounts SELECT g, (g - 1) / 100000 + 1, 0, '' FROM generate_series(1, {100_000 * scale}) g;
        """;

    /// <summary>
    /// One transaction touching all four tables after a run, marked so it is found by key. A consumer that
    /// applies each table's changes in commit order (DataSync's appliers do, each table in its own
    /// transactions) has applied the whole run once it is visible in all four. Once per cluster: its history row has a fixed key.
    /// </summary>
    public const string LastTransaction = """
        BEGIN;
        UPDATE pgbench_branches SET filler = 'last' WHERE bid = 1;
        UPDATE pgbench_tellers SET filler = 'last' WHERE tid = 1;
        UPDATE pgbench_accounts SET filler = 'last' WHERE aid = 1;
        INSERT INTO pgbench_history (hid, tid, bid, aid, delta, mtime, filler) VALUES (-1, 1, 1, 1, 0, CURRENT_TIMESTAMP, 'last');
        COMMIT;
        """;

    /// <summary>True once <see cref="LastTransaction"/> is visible in all four tables.</summary>
    public const string LastTransactionVisible = """
        SELECT EXISTS (SELECT 1 FROM pgbench_history WHERE hid = -1)
           AND EXISTS (SELECT 1 FROM pgbench_accounts WHERE aid = 1 AND filler = 'last')
           AND EXISTS (SELECT 1 FROM pgbench_tellers WHERE tid = 1 AND filler = 'last')
           AND EXISTS (SELECT 1 FROM pgbench_branches WHERE bid = 1 AND filler = 'last')
        """;

    public static async Task RunAsync(string connectionString, int transactions, int clients, int scale)
    {
        var tasks = Enumerable.Range(0, clients).Select(client => Task.Run(() =>
        {
            var left = transactions / clients + (client < transactions % clients ? 1 : 0);
            return RunClientAsync(connectionString, scale, 7919 * (client + 1), () => ValueTask.FromResult(left-- > 0), () => { });
        }));
        await Task.WhenAll(tasks);
    }

    /// <summary>
    /// Steady writes: the clients take turns on one schedule of <paramref name="perSecond"/> transactions a second
    /// (the n-th is due at n / rate seconds; a client behind the schedule does not wait) until <paramref name="stop"/>.
    /// Returns how many committed.
    /// </summary>
    public static async Task<long> RunPacedAsync(string connectionString, double perSecond, int clients, int scale, CancellationToken stop)
    {
        long issued = 0;
        long committed = 0;
        var clock = Stopwatch.StartNew();
        async ValueTask<bool> Next()
        {
            var due = TimeSpan.FromSeconds((Interlocked.Increment(ref issued) - 1) / perSecond);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, stop);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }
            }

            return !stop.IsCancellationRequested;
        }

        // Seeds differ from RunAsync's so a soak's rows are not a replay of an earlier run's.
        var tasks = Enumerable.Range(0, clients).Select(client => Task.Run(() =>
            RunClientAsync(connectionString, scale, 104_729 * (client + 1), Next, () => Interlocked.Increment(ref committed))));
        await Task.WhenAll(tasks);
        return Interlocked.Read(ref committed);
    }

    private static async Task RunClientAsync(string connectionString, int scale, int seed, Func<ValueTask<bool>> next, Action committed)
    {
        var random = new Random(seed);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var batch = new NpgsqlBatch(connection);
        var aid = new NpgsqlBatchCommand("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2");
        var read = new NpgsqlBatchCommand("SELECT abalance FROM pgbench_accounts WHERE aid = $1");
        var tid = new NpgsqlBatchCommand("UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2");
        var bid = new NpgsqlBatchCommand("UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2");
        var history = new NpgsqlBatchCommand("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)");
        foreach (var command in new[] { aid, read, tid, bid, history }) batch.BatchCommands.Add(command);
        aid.Parameters.Add(new NpgsqlParameter<int>());
        aid.Parameters.Add(new NpgsqlParameter<int>());
        read.Parameters.Add(new NpgsqlParameter<int>());
        tid.Parameters.Add(new NpgsqlParameter<int>());
        tid.Parameters.Add(new NpgsqlParameter<int>());
        bid.Parameters.Add(new NpgsqlParameter<int>());
        bid.Parameters.Add(new NpgsqlParameter<int>());
        for (var i = 0; i < 4; i++) history.Parameters.Add(new NpgsqlParameter<int>());
        await batch.PrepareAsync();
        while (await next())
        {
            var account = random.Next(1, 100_000 * scale + 1);
            var teller = random.Next(1, 10 * scale + 1);
            var branch = random.Next(1, scale + 1);
            var delta = random.Next(-5000, 5001);
            Set(aid, delta, account);
            Set(read, account);
            Set(tid, delta, teller);
            Set(bid, delta, branch);
            Set(history, teller, branch, account, delta);
            await batch.ExecuteNonQueryAsync();
            committed();
        }
    }

    private static void Set(NpgsqlBatchCommand command, params int[] values)
    {
        for (var i = 0; i < values.Length; i++) ((NpgsqlParameter<int>)command.Parameters[i]).TypedValue = values[i];
    }
}
