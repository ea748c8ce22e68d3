using System.Text;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Wal.Tests.Changes;

/// <summary>
/// A simple applier for the tests (the production one is a later issue): each transaction in one
/// local transaction; runs of inserts go in by COPY BINARY; runs of updates or deletes of distinct
/// keys go through a staging table and one statement, which must hit exactly one row per change.
/// </summary>
internal sealed class TestApplier(NpgsqlConnection connection)
{
    private const string KeyPrefix = "key$";
    private readonly HashSet<string> _staged = [];
    private readonly List<RowChange> _run = [];
    private readonly HashSet<string> _runKeys = [];

    public long Inserts { get; private set; }
    public long Updates { get; private set; }
    public long Deletes { get; private set; }
    public List<CatalogEvent> Events { get; } = [];

    public async Task ApplyAsync(CommittedTransaction transaction)
    {
        await using var local = await connection.BeginTransactionAsync();
        foreach (var change in transaction.Changes)
        {
            switch (change)
            {
                case RowChange row:
                    if (!Fits(row)) await FlushAsync();
                    Add(row);
                    break;
                case TruncateEvent truncate:
                    await FlushAsync();
                    Events.Add(truncate);
                    foreach (var table in truncate.Tables) await ExecuteAsync($"TRUNCATE {Name(table)}");
                    break;
                case CatalogEvent other:
                    await FlushAsync();
                    Events.Add(other);
                    break;
            }
        }

        await FlushAsync();
        await local.CommitAsync();
    }

    private bool Fits(RowChange row)
    {
        if (_run.Count == 0) return true;
        var first = _run[0];
        if (first.Kind != row.Kind || first.Table != row.Table) return false;
        if (row.Kind == ChangeKind.Insert) return true;
        if (row.NewRow is { HasUnchangedToast: true } || first.NewRow is { HasUnchangedToast: true }) return false;
        return !Keys(row).Any(_runKeys.Contains);
    }

    private void Add(RowChange row)
    {
        _run.Add(row);
        if (row.Kind != ChangeKind.Insert) _runKeys.UnionWith(Keys(row));
    }

    /// <summary>The key the change hits and, for an update, the key it leaves behind.</summary>
    private static IEnumerable<string> Keys(RowChange row)
    {
        var keyRow = row.OldKey ?? row.NewRow!;
        yield return KeyText(keyRow);
        if (row.NewRow is { } newRow) yield return KeyText(newRow);
    }

    private static string KeyText(DecodedRow row)
    {
        var text = new StringBuilder();
        foreach (var attNum in row.Table.KeyAttNums)
        {
            var i = row.IndexOf(attNum);
            text.Append(row.State(i)).Append(':').Append(Convert.ToHexString(row.Field(i))).Append('|');
        }

        return text.ToString();
    }

    private async Task FlushAsync()
    {
        if (_run.Count == 0) return;
        var first = _run[0];
        switch (first.Kind)
        {
            case ChangeKind.Insert:
                if (_run.FirstOrDefault(r => r.NewRow!.HasUnchangedToast) is { } broken)
                    throw new InvalidOperationException($"{first.Table}: insert at {broken.Lsn} has unchanged TOAST columns");
                await CopyAsync($"COPY {Name(first.Table)} FROM STDIN (FORMAT binary)", _run.Select(r => r.NewRow!));
                Inserts += _run.Count;
                break;
            case ChangeKind.Update:
                await UpdateAsync(first.Table);
                Updates += _run.Count;
                break;
            case ChangeKind.Delete:
                await DeleteAsync(first.Table);
                Deletes += _run.Count;
                break;
        }

        _run.Clear();
        _runKeys.Clear();
    }

    private async Task UpdateAsync(TableDescriptor table)
    {
        var stage = await StageAsync(table);
        await CopyAsync($"COPY {stage} FROM STDIN (FORMAT binary)", _run.Select<RowChange, (DecodedRow?, DecodedRow?)>(r => (r.NewRow, r.OldKey ?? r.NewRow)));
        var newRow = _run[0].NewRow!;
        var set = string.Join(", ", Enumerable.Range(0, newRow.FieldCount)
            .Where(i => newRow.State(i) != FieldState.UnchangedToast)
            .Select(i => $"{Quote(newRow.Columns[i].Name)} = n.{Quote(newRow.Columns[i].Name)}"));
        var hit = await ExecuteAsync($"UPDATE {Name(table)} t SET {set} FROM {stage} n WHERE {KeyMatch(table)}");
        await ExecuteAsync($"TRUNCATE {stage}");
        if (hit != _run.Count)
            throw new InvalidOperationException($"{table}: {_run.Count} updates from {_run[0].Lsn} hit {hit} local rows");
    }

    private async Task DeleteAsync(TableDescriptor table)
    {
        var stage = await StageAsync(table);
        await CopyAsync($"COPY {stage} FROM STDIN (FORMAT binary)",
            _run.Select(r => ((DecodedRow?)null, (DecodedRow?)(r.OldKey ?? throw new InvalidOperationException($"{table}: delete at {r.Lsn} without an old key")))));
        var hit = await ExecuteAsync($"DELETE FROM {Name(table)} t USING {stage} n WHERE {KeyMatch(table)}");
        await ExecuteAsync($"TRUNCATE {stage}");
        if (hit != _run.Count)
            throw new InvalidOperationException($"{table}: {_run.Count} deletes from {_run[0].Lsn} hit {hit} local rows");
    }

    private static string KeyMatch(TableDescriptor table) =>
        string.Join(" AND ", table.KeyAttNums.Select(a => $"t.{Quote(table.Column(a).Name)} IS NOT DISTINCT FROM n.{Quote(KeyPrefix + table.Column(a).Name)}"));

    /// <summary>A temporary table with the table's columns and, after them, its key columns again (the key the change hits).</summary>
    private async Task<string> StageAsync(TableDescriptor table)
    {
        var stage = Quote("stage_" + table.Name);
        if (_staged.Add(stage))
        {
            var keys = string.Join(", ", table.KeyAttNums.Select(a => $"t.{Quote(table.Column(a).Name)} AS {Quote(KeyPrefix + table.Column(a).Name)}"));
            await ExecuteAsync($"CREATE TEMP TABLE {stage} AS SELECT t.*, {keys} FROM {Name(table)} t WITH NO DATA");
        }

        return stage;
    }

    private Task CopyAsync(string copy, IEnumerable<DecodedRow> rows) => CopyAsync(copy, rows.Select(r => ((DecodedRow?)r, (DecodedRow?)null)));

    /// <summary>COPY BINARY of rows: the row's fields (all NULL when absent; unchanged TOAST as NULL), then when a key row is given its key fields.</summary>
    private async Task CopyAsync(string copy, IEnumerable<(DecodedRow? Row, DecodedRow? Key)> rows)
    {
        var buffer = new SendBuffer(1 << 16);
        CopyBinaryFormat.WriteHeader(buffer);
        foreach (var (row, key) in rows)
        {
            var table = (row ?? key)!.Table;
            var fields = table.CopiedColumns.Count();
            buffer.WriteInt16((short)(fields + (key is null ? 0 : table.KeyAttNums.Count)));
            for (var i = 0; i < fields; i++) WriteField(buffer, row, i);
            if (key is not null)
                foreach (var attNum in table.KeyAttNums) WriteField(buffer, key, key.IndexOf(attNum));
        }

        CopyBinaryFormat.WriteTrailer(buffer);
        await using var stream = await connection.BeginRawBinaryCopyAsync(copy);
        await stream.WriteAsync(buffer.WrittenMemory);
    }

    private static void WriteField(SendBuffer buffer, DecodedRow? row, int index)
    {
        if (row is not null && row.State(index) == FieldState.Value)
        {
            buffer.WriteInt32(row.Field(index).Length);
            buffer.WriteBytes(row.Field(index));
        }
        else
        {
            buffer.WriteInt32(-1);
        }
    }

    private async Task<int> ExecuteAsync(string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync();
    }

    private static string Name(TableDescriptor table) => $"{Quote(table.Schema)}.{Quote(table.Name)}";

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
