using System.Globalization;
using DataSync.Core.Apply;
using Npgsql;

namespace DataSync.Core.Verify;

/// <summary>
/// Compares a table on two servers without moving its rows: the key space is cut into ranges of about
/// <paramref name="rangeRows"/> local rows (walking the local key in order), each range is hashed on both sides (row
/// count and the md5 of its rows' md5s in key order), and only a range whose hashes differ is read row by row (key and
/// row md5) on both sides to name the differing keys. Identical ranges cost one aggregate query per side.
/// </summary>
public sealed class RangeComparer(ComparedTable table, int rangeRows = RangeComparer.DefaultRangeRows)
{
    /// <summary>Rows per range: large enough that the per-range queries cost little, small enough that narrowing a differing range is cheap.</summary>
    public const int DefaultRangeRows = 10_000;

    /// <summary>
    /// Compares <paramref name="production"/> and <paramref name="local"/> (each inside a transaction that gives it one
    /// snapshot, with <see cref="ComparedTable.SessionSettings"/> set). <paramref name="compared"/> hears the rows compared so far.
    /// </summary>
    public async Task<TableComparison> CompareAsync(NpgsqlConnection production, NpgsqlConnection local, Action<long>? compared, CancellationToken cancellationToken)
    {
        // Each side's own rows of the table (OwnRows): an ordinary table's inheritance children are not synced with it.
        var theirRows = await OwnRows.NameAsync(production, table.Table, cancellationToken).ConfigureAwait(false);
        var ourRows = await OwnRows.NameAsync(local, table.Table, cancellationToken).ConfigureAwait(false);
        long productionRows = 0, localRows = 0;
        var ranges = 0;
        var differing = 0;
        var differences = new List<RowDifference>();
        KeyValue? after = null;
        while (true)
        {
            var through = await NextBoundaryAsync(local, ourRows, after, cancellationToken).ConfigureAwait(false);
            var condition = table.RangeCondition(after, through);
            var (prodCount, prodHash) = await HashAsync(production, theirRows, condition, cancellationToken).ConfigureAwait(false);
            var (localCount, localHash) = await HashAsync(local, ourRows, condition, cancellationToken).ConfigureAwait(false);
            ranges++;
            productionRows += prodCount;
            localRows += localCount;
            if (prodCount != localCount || prodHash != localHash)
            {
                differing++;
                differences.AddRange(await NarrowAsync(production, theirRows, local, ourRows, condition, cancellationToken).ConfigureAwait(false));
            }

            compared?.Invoke(Math.Max(productionRows, localRows));
            if (through is null) break;
            after = through;
        }

        return new TableComparison(productionRows, localRows, ranges, differing, differences);
    }

    /// <summary>The key <paramref name="rangeRows"/> local rows after <paramref name="after"/>; null when fewer are left (the last range is open).</summary>
    private async Task<KeyValue?> NextBoundaryAsync(NpgsqlConnection local, string relation, KeyValue? after, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(string.Create(CultureInfo.InvariantCulture,
            $"SELECT {table.KeyText} FROM {relation} WHERE {table.RangeCondition(after, null)} ORDER BY {table.KeyOrder} OFFSET {rangeRows - 1} LIMIT 1"), local);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? KeyOf(reader) : null;
    }

    private async Task<(long Count, string Hash)> HashAsync(NpgsqlConnection connection, string relation, string condition, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT count(*), coalesce(md5(string_agg({table.RowHash}, '' ORDER BY {table.KeyOrder})), '') FROM {relation} WHERE {condition}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetString(1));
    }

    /// <summary>The differing rows of one range: each side's keys with their row md5, matched by key.</summary>
    private async Task<IReadOnlyList<RowDifference>> NarrowAsync(NpgsqlConnection production, string theirRows, NpgsqlConnection local, string ourRows, string condition, CancellationToken cancellationToken)
    {
        var theirs = await RowsAsync(production, theirRows, condition, cancellationToken).ConfigureAwait(false);
        var ours = await RowsAsync(local, ourRows, condition, cancellationToken).ConfigureAwait(false);
        var found = new List<(int Order, RowDifference Difference)>();
        var ourHashes = ours.ToDictionary(r => r.Key, r => r.Hash);
        var theirKeys = new HashSet<KeyValue>();
        for (var i = 0; i < theirs.Count; i++)
        {
            var (key, hash) = theirs[i];
            theirKeys.Add(key);
            if (!ourHashes.TryGetValue(key, out var our)) found.Add((i, new RowDifference(DifferenceKind.MissingLocally, key, table.Describe(key))));
            else if (our != hash) found.Add((i, new RowDifference(DifferenceKind.Different, key, table.Describe(key))));
        }

        // Extra local keys go where production's order would put them: after the production rows, in local key order (the same order).
        for (var i = 0; i < ours.Count; i++)
            if (!theirKeys.Contains(ours[i].Key)) found.Add((theirs.Count + i, new RowDifference(DifferenceKind.ExtraLocally, ours[i].Key, table.Describe(ours[i].Key))));
        return found.OrderBy(f => f.Order).Select(f => f.Difference).ToList();
    }

    private async Task<List<(KeyValue Key, string Hash)>> RowsAsync(NpgsqlConnection connection, string relation, string condition, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT {table.KeyText}, {table.RowHash} FROM {relation} WHERE {condition} ORDER BY {table.KeyOrder}", connection);
        var rows = new List<(KeyValue, string)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) rows.Add((KeyOf(reader), reader.GetString(table.Key.Count)));
        return rows;
    }

    private KeyValue KeyOf(NpgsqlDataReader reader)
    {
        var parts = new string[table.Key.Count];
        for (var i = 0; i < parts.Length; i++) parts[i] = reader.GetString(i);
        return new KeyValue(parts);
    }
}
