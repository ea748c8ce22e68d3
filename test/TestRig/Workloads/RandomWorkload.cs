using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace DataSync.TestRig.Workloads;

/// <summary>
/// A seeded random workload for one session on the differential test's tables: inserts, COPY,
/// updates (with and without key changes, touching TOASTed columns or not), deletes, savepoints
/// rolled back, aborted transactions, two-phase commits and rollbacks, INSERT ... ON CONFLICT,
/// values from empty to 1 MB. Each session works in its own id range so sessions never wait on
/// each other's rows, while their WAL interleaves. <see cref="Tally"/> counts the row changes that
/// committed, per table.
/// </summary>
public sealed class RandomWorkload(NpgsqlConnection connection, int session, int seed)
{
    public const string Ddl = """
        CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, name text, payload bytea, amount numeric(14,2), tags text[], updated timestamptz);
        CREATE TABLE events (id bigint PRIMARY KEY, kind text, body text);
        ALTER TABLE events REPLICA IDENTITY FULL;
        CREATE TABLE pairs (a int, b int, note text, PRIMARY KEY (a, b));
        """;

    public const string Setup = """
        INSERT INTO items SELECT s * 1000000 + g, g % 7, 'initial ' || g, decode(md5(g::text), 'hex'), g * 1.25, ARRAY['x', g::text], '2025-01-01'::timestamptz + g * interval '1 minute'
        FROM generate_series(0, 3) s, generate_series(1, 100) g;
        INSERT INTO events SELECT s * 1000000 + g, 'init', repeat('e', g) FROM generate_series(0, 3) s, generate_series(1, 50) g;
        INSERT INTO pairs SELECT s * 1000000 + g, g, 'p' || g FROM generate_series(0, 3) s, generate_series(1, 50) g;
        """;

    private readonly Random _random = new(seed);
    private readonly List<int> _items = Enumerable.Range(1, 100).Select(g => session * 1000000 + g).ToList();
    private readonly List<long> _events = Enumerable.Range(1, 50).Select(g => (long)session * 1000000 + g).ToList();
    private readonly List<(int A, int B)> _pairs = Enumerable.Range(1, 50).Select(g => (session * 1000000 + g, g)).ToList();
    private int _nextId = session * 1000000 + 1000;
    private int _gid;

    public int Transactions { get; private set; }

    /// <summary>Row changes this session committed, per table (items, events, pairs).</summary>
    public ChangeTally Tally { get; } = new();

    public async Task RunAsync(int iterations, Func<int, Task>? extra = null)
    {
        for (var i = 0; i < iterations; i++)
        {
            if (extra is not null) await extra(i);
            var pick = _random.Next(100);
            if (pick < 20) await CommitAsync(() => InsertItemsAsync(_random.Next(1, 11), true));
            else if (pick < 28) await CommitAsync(() => CopyItemsAsync(_random.Next(20, 300)));
            else if (pick < 48) await CommitAsync(() => UpdateItemsAsync(_random.Next(1, 6)));
            else if (pick < 53) await CommitAsync(() => MoveItemKeyAsync());
            else if (pick < 63) await CommitAsync(() => DeleteItemsAsync(_random.Next(1, 4)));
            else if (pick < 71) await SavepointAsync();
            else if (pick < 76) await AbortedAsync();
            else if (pick < 81) await TwoPhaseAsync();
            else if (pick < 89) await CommitAsync(() => UpsertAsync());
            else if (pick < 95) await CommitAsync(() => EventsAsync());
            else await CommitAsync(() => PairsAsync());
            Transactions++;
        }
    }

    /// <summary>Much more than a segment of WAL in one transaction: 1 MB values and many small rows.</summary>
    public async Task BigTransactionAsync()
    {
        await using var transaction = await connection.BeginTransactionAsync();
        Tally.Begin();
        for (var i = 0; i < 20; i++)
            await ChangeAsync("items", "INSERT INTO items VALUES ($1, $2, $3, $4, $5, NULL, now())",
                _nextId++, 9, RandomText(1_000_000, false), RandomBytes(_random.Next(0, 2) * 300_000), 0.01m);
        // Outside every session's range, so the sessions' range updates do not sweep these rows.
        var from = 100_000_000 + session * 1_000_000;
        await ChangeAsync("items", "INSERT INTO items SELECT g, g % 5, md5(g::text), NULL, g, NULL, NULL FROM generate_series($1::int, $2::int) g", from, from + 59999);
        await ChangeAsync("items", "UPDATE items SET amount = amount + 1 WHERE id BETWEEN $1 AND $2 AND id % 10 = 0", from, from + 59999);
        await transaction.CommitAsync();
        Tally.Commit();
    }

    /// <summary>A statement outside the random mix (maintenance such as VACUUM FULL, which cannot run in a transaction block).</summary>
    public Task StatementAsync(string sql) => ExecuteAsync(sql);

    private async Task CommitAsync(Func<Task> work)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        Tally.Begin();
        await work();
        await transaction.CommitAsync();
        Tally.Commit();
    }

    private async Task SavepointAsync()
    {
        await using var transaction = await connection.BeginTransactionAsync();
        Tally.Begin();
        await InsertItemsAsync(2, true);
        await transaction.SaveAsync("a");
        Tally.Save("a");
        await InsertItemsAsync(3, false);
        await UpdateItemsAsync(2);
        await DeleteItemsAsync(1, remember: false);
        await EventsAsync(remember: false);
        if (_random.Next(2) == 0)
        {
            await transaction.SaveAsync("b");
            Tally.Save("b");
            await InsertItemsAsync(1, false);
            await transaction.ReleaseAsync("b");
            Tally.Release("b");
        }

        await transaction.RollbackAsync("a");
        Tally.RollbackTo("a");
        await transaction.SaveAsync("c");
        Tally.Save("c");
        await InsertItemsAsync(1, true);
        await transaction.ReleaseAsync("c");
        Tally.Release("c");
        await UpdateItemsAsync(1);
        await transaction.CommitAsync();
        Tally.Commit();
    }

    private async Task AbortedAsync()
    {
        await using var transaction = await connection.BeginTransactionAsync();
        Tally.Begin();
        await InsertItemsAsync(3, false);
        await UpdateItemsAsync(2);
        await DeleteItemsAsync(2, remember: false);
        await PairsAsync(remember: false);
        await transaction.RollbackAsync();
        Tally.Rollback();
    }

    private async Task TwoPhaseAsync()
    {
        var commit = _random.Next(2) == 0;
        var gid = $"s{session}-{_gid++}";
        await ExecuteAsync("BEGIN");
        Tally.Begin();
        await InsertItemsAsync(2, commit);
        await UpdateItemsAsync(1);
        await EventsAsync(remember: commit);
        await ExecuteAsync($"PREPARE TRANSACTION '{gid}'");
        // Let other sessions write while it is prepared.
        await Task.Delay(_random.Next(0, 20));
        await ExecuteAsync(commit ? $"COMMIT PREPARED '{gid}'" : $"ROLLBACK PREPARED '{gid}'");
        if (commit) Tally.Commit();
        else Tally.Rollback();
    }

    private async Task InsertItemsAsync(int count, bool remember)
    {
        var sql = new StringBuilder("INSERT INTO items VALUES ");
        var values = new List<object?>();
        for (var i = 0; i < count; i++)
        {
            var id = _nextId++;
            if (remember) _items.Add(id);
            if (i > 0) sql.Append(", ");
            var p = values.Count;
            sql.Append($"(${p + 1}, ${p + 2}, ${p + 3}, ${p + 4}, ${p + 5}, ${p + 6}, ${p + 7})");
            values.AddRange([id, _random.Next(10), NullOr(RandomText(Size(), _random.Next(3) == 0)), NullOr(RandomBytes(Size() / 4)),
                Amount(), Tags(), Timestamp()]);
        }

        await ChangeAsync("items", sql.ToString(), values.ToArray());
    }

    private async Task CopyItemsAsync(int count)
    {
        await using var import = await connection.BeginBinaryImportAsync("COPY items FROM STDIN (FORMAT binary)");
        for (var i = 0; i < count; i++)
        {
            var id = _nextId++;
            _items.Add(id);
            await import.StartRowAsync();
            await import.WriteAsync(id, NpgsqlDbType.Integer);
            await import.WriteAsync(_random.Next(10), NpgsqlDbType.Integer);
            await WriteOrNullAsync(import, NullOr(RandomText(Size(), _random.Next(2) == 0)), NpgsqlDbType.Text);
            await WriteOrNullAsync(import, NullOr(RandomBytes(Size() / 8)), NpgsqlDbType.Bytea);
            await import.WriteAsync(Amount(), NpgsqlDbType.Numeric);
            await WriteOrNullAsync(import, Tags(), NpgsqlDbType.Array | NpgsqlDbType.Text);
            await import.WriteAsync(Timestamp(), NpgsqlDbType.TimestampTz);
        }

        Tally.Add("items", (long)await import.CompleteAsync());
    }

    private static Task WriteOrNullAsync(NpgsqlBinaryImporter import, object? value, NpgsqlDbType type) =>
        value is null ? import.WriteNullAsync() : import.WriteAsync(value, type);

    private async Task UpdateItemsAsync(int count)
    {
        for (var i = 0; i < count && _items.Count > 0; i++)
        {
            var id = _items[_random.Next(_items.Count)];
            switch (_random.Next(4))
            {
                case 0:
                    // Leaves name and payload alone: TOASTed ones come through as unchanged.
                    await ChangeAsync("items", "UPDATE items SET amount = $2, updated = $3 WHERE id = $1", id, Amount(), Timestamp());
                    break;
                case 1:
                    await ChangeAsync("items", "UPDATE items SET name = $2 WHERE id = $1", id, NullOr(RandomText(Size(), _random.Next(2) == 0)));
                    break;
                case 2:
                    await ChangeAsync("items", "UPDATE items SET payload = $2, tags = $3, grp = grp + 1 WHERE id = $1", id, NullOr(RandomBytes(Size() / 2)), Tags());
                    break;
                default:
                    await ChangeAsync("items", "UPDATE items SET grp = $1 WHERE grp = $2 AND id BETWEEN $3 AND $4", _random.Next(10), _random.Next(10),
                        session * 1000000, session * 1000000 + 999999);
                    break;
            }
        }
    }

    private async Task MoveItemKeyAsync()
    {
        if (_items.Count == 0) return;
        var index = _random.Next(_items.Count);
        var id = _nextId++;
        await ChangeAsync("items", "UPDATE items SET id = $2, name = coalesce(name, '') || '+' WHERE id = $1", _items[index], id);
        _items[index] = id;
    }

    private async Task DeleteItemsAsync(int count, bool remember = true)
    {
        for (var i = 0; i < count && _items.Count > 0; i++)
        {
            var index = _random.Next(_items.Count);
            await ChangeAsync("items", "DELETE FROM items WHERE id = $1", _items[index]);
            if (remember) _items.RemoveAt(index);
        }
    }

    private async Task UpsertAsync()
    {
        var existing = _items.Count > 0 && _random.Next(2) == 0 ? _items[_random.Next(_items.Count)] : _nextId++;
        if (!_items.Contains(existing)) _items.Add(existing);
        if (_random.Next(3) == 0)
        {
            await ChangeAsync("items", "INSERT INTO items VALUES ($1, 1, $2, NULL, 1, NULL, NULL) ON CONFLICT (id) DO NOTHING", existing, RandomText(Size(), false));
        }
        else
        {
            await ChangeAsync("items",
                "INSERT INTO items VALUES ($1, 2, $2, $3, $4, NULL, $5) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, amount = items.amount + EXCLUDED.amount",
                existing, RandomText(Size(), _random.Next(2) == 0), NullOr(RandomBytes(Size() / 4)), Amount(), Timestamp());
        }
    }

    private async Task EventsAsync(bool remember = true)
    {
        switch (_random.Next(3))
        {
            case 0:
                for (var i = _random.Next(1, 6); i > 0; i--)
                {
                    long id = _nextId++;
                    if (remember) _events.Add(id);
                    await ChangeAsync("events", "INSERT INTO events VALUES ($1, $2, $3)", id, "k" + _random.Next(5), NullOr(RandomText(Size(), _random.Next(2) == 0)));
                }

                break;
            case 1:
                for (var i = _random.Next(1, 4); i > 0 && _events.Count > 0; i--)
                    await ChangeAsync("events", "UPDATE events SET kind = $2 WHERE id = $1", _events[_random.Next(_events.Count)], "u" + _random.Next(5));
                break;
            default:
                if (_events.Count == 0) break;
                var index = _random.Next(_events.Count);
                await ChangeAsync("events", "DELETE FROM events WHERE id = $1", _events[index]);
                if (remember) _events.RemoveAt(index);
                break;
        }
    }

    private async Task PairsAsync(bool remember = true)
    {
        switch (_random.Next(3))
        {
            case 0:
                var pair = (_nextId++, _random.Next(100));
                await ChangeAsync("pairs", "INSERT INTO pairs VALUES ($1, $2, $3)", pair.Item1, pair.Item2, "n" + _random.Next(1000));
                if (remember) _pairs.Add(pair);
                break;
            case 1:
                if (_pairs.Count == 0) break;
                var index = _random.Next(_pairs.Count);
                var moved = (_pairs[index].A, _nextId++);
                await ChangeAsync("pairs", "UPDATE pairs SET b = $3, note = note || '!' WHERE a = $1 AND b = $2", _pairs[index].A, _pairs[index].B, moved.Item2);
                if (remember) _pairs[index] = moved;
                break;
            default:
                if (_pairs.Count == 0) break;
                var gone = _random.Next(_pairs.Count);
                await ChangeAsync("pairs", "DELETE FROM pairs WHERE a = $1 AND b = $2", _pairs[gone].A, _pairs[gone].B);
                if (remember) _pairs.RemoveAt(gone);
                break;
        }
    }

    /// <summary>Runs a statement that changes rows of <paramref name="table"/> and counts them.</summary>
    private async Task ChangeAsync(string table, string sql, params object?[] values) => Tally.Add(table, await ExecuteAsync(sql, values));

    private async Task<int> ExecuteAsync(string sql, params object?[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var value in values) command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>Mostly short, sometimes long enough to be compressed or moved to TOAST, rarely up to 1 MB.</summary>
    private int Size()
    {
        var pick = _random.Next(1000);
        return pick switch
        {
            < 500 => _random.Next(0, 40),
            < 800 => _random.Next(40, 2000),
            < 950 => _random.Next(2000, 20000),
            < 995 => _random.Next(20000, 200000),
            _ => _random.Next(200000, 1_000_001),
        };
    }

    private string RandomText(int length, bool compressible)
    {
        var text = new char[length];
        if (compressible)
        {
            var word = Enumerable.Range(0, _random.Next(1, 12)).Select(_ => (char)('a' + _random.Next(26))).ToArray();
            for (var i = 0; i < length; i++) text[i] = word[i % word.Length];
        }
        else
        {
            for (var i = 0; i < length; i++) text[i] = (char)(_random.Next(8) == 0 ? 'é' : 'a' + _random.Next(26));
        }

        return new string(text);
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private T? NullOr<T>(T value) where T : class => _random.Next(10) == 0 ? null : value;

    private decimal Amount() => Math.Round((decimal)(_random.NextDouble() * 1_000_000 - 500_000), 2);

    private string[]? Tags() => _random.Next(4) == 0 ? null : Enumerable.Range(0, _random.Next(0, 4)).Select(i => _random.Next(2) == 0 ? "t" + i : "").ToArray();

    private DateTime Timestamp() => new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(_random.Next(100_000_000));
}
