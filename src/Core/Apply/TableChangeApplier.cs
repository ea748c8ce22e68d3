using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using DataSync.Core.Configuration;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Changes;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Core.Apply;

/// <summary>
/// Applies one table's committed row changes to the local table, set-based. Changes are taken in
/// rounds and netted out per row in commit order (insert-then-update is one insert, update-then-delete
/// one delete, a key change moves the row), streamed as COPY BINARY into a temporary staging table,
/// and merged with one DELETE, one UPDATE per set of untouched TOAST columns and one INSERT. It runs
/// inside the caller's transaction, which also carries the table's checkpoint, so a batch applies
/// entirely or not at all.
/// </summary>
public sealed class TableChangeApplier
{
    private const short OpDelete = 1;
    private const short OpUpdate = 2;
    private const short OpInsert = 3;

    private readonly TableName _table;
    private readonly OnConflict _onConflict;
    private readonly int _roundSize;
    private readonly string _stage;
    private string[] _columns = [];
    private int[] _keyFields = [];
    private bool _stageCreated;

    public TableChangeApplier(TableName table, OnConflict onConflict, int roundSize = 20_000)
    {
        _table = table;
        _onConflict = onConflict;
        _roundSize = roundSize;
        // A staging name no identifier can break: a hash of the table's name.
        _stage = "datasync_stage_" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(table.ToString())))[..16].ToLowerInvariant();
    }

    private readonly Dictionary<KeyBytes, NetChange> _current = [];
    private readonly List<NetChange> _order = [];

    /// <summary>Changes taken since <see cref="Begin"/>, counted as production made them.</summary>
    public ApplyCounts Counts { get; private set; }

    /// <summary>Applies <paramref name="changes"/> (this table's, in commit order) through <paramref name="connection"/>, inside its open transaction.</summary>
    public async Task<ApplyCounts> ApplyAsync(NpgsqlConnection connection, IEnumerable<RowChange> changes, CancellationToken cancellationToken)
    {
        Begin();
        foreach (var change in changes) await AddAsync(connection, change, cancellationToken).ConfigureAwait(false);
        await FlushAsync(connection, cancellationToken).ConfigureAwait(false);
        return Counts;
    }

    /// <summary>Starts a batch in a new local transaction (its staging table is dropped at every commit).</summary>
    public void Begin()
    {
        _stageCreated = false;
        _current.Clear();
        _order.Clear();
        Counts = default;
    }

    /// <summary>Takes one change; a full round is merged into the table at once.</summary>
    public async Task AddAsync(NpgsqlConnection connection, RowChange change, CancellationToken cancellationToken)
    {
        EnsureShape(change);
        Counts += change.Kind switch
        {
            ChangeKind.Insert => new ApplyCounts(1, 0, 0),
            ChangeKind.Update => new ApplyCounts(0, 1, 0),
            _ => new ApplyCounts(0, 0, 1),
        };
        Net(change, _current, _order);
        if (_order.Count >= _roundSize) await FlushAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Merges what the current round holds; needed before a TRUNCATE and at the end of a batch.</summary>
    public async Task FlushAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (_order.Count == 0) return;
        await FlushRoundAsync(connection, _order, cancellationToken).ConfigureAwait(false);
        _current.Clear();
        _order.Clear();
    }

    /// <summary>
    /// Empties tables (an upstream TRUNCATE, or before a bootstrap copy) in the caller's transaction: one
    /// TRUNCATE of them all, or, when a local table outside the set references one of them, a DELETE of
    /// each (the apply session's replica role keeps foreign keys from firing).
    /// </summary>
    public static async Task TruncateAsync(NpgsqlConnection connection, IReadOnlyList<TableName> tables, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, "SAVEPOINT datasync_truncate", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, $"TRUNCATE {string.Join(", ", tables.Select(t => t.Quoted))}", cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.FeatureNotSupported)
        {
            await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_truncate", cancellationToken).ConfigureAwait(false);
            foreach (var table in tables) await ExecuteAsync(connection, $"DELETE FROM {table.Quoted}", cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, "RELEASE SAVEPOINT datasync_truncate", cancellationToken).ConfigureAwait(false);
    }

    private void EnsureShape(RowChange change)
    {
        if (_columns.Length > 0) return;
        var row = change.NewRow ?? change.OldKey ?? throw new InvalidOperationException($"{change} carries no row");
        _columns = row.Columns.Select(c => c.Name).ToArray();
        _keyFields = change.Table.KeyAttNums.Select(a => row.IndexOf(a)).ToArray();
        if (_keyFields.Length == 0 || _keyFields.Any(i => i < 0))
            throw new InvalidOperationException($"{_table}: production's replica identity columns are not all among the copied columns");
    }

    /// <summary>Folds one change into the round: <paramref name="current"/> maps each row's current key to its net change.</summary>
    private void Net(RowChange change, Dictionary<KeyBytes, NetChange> current, List<NetChange> order)
    {
        switch (change.Kind)
        {
            case ChangeKind.Insert:
            {
                var key = KeyOf(change.NewRow!);
                if (!current.TryGetValue(key, out var net) || net.Row is not null)
                {
                    net = new NetChange(null, change.Lsn);
                    current[key] = net;
                    order.Add(net);
                }

                // An insert at a key deleted earlier in the round reuses that row: the net effect is an update.
                net.Row = Image(change.NewRow!, null);
                net.Lsn = change.Lsn;
                break;
            }

            case ChangeKind.Update:
            {
                var newKey = KeyOf(change.NewRow!);
                var oldKey = change.OldKey is { } old ? KeyOf(old) : newKey;
                var net = Existing(current, order, oldKey, change.Lsn);
                net.Row = Image(change.NewRow!, net.Row);
                net.Lsn = change.Lsn;
                if (!oldKey.Equals(newKey))
                {
                    // The row moves to a new key; whatever was deleted there earlier stays staged as a delete.
                    current.Remove(oldKey);
                    current[newKey] = net;
                }

                break;
            }

            default:
            {
                var key = KeyOf(change.OldKey ?? throw new InvalidOperationException($"{change} has no old key"));
                var net = Existing(current, order, key, change.Lsn);
                net.Row = null;
                net.Lsn = change.Lsn;
                break;
            }
        }
    }

    /// <summary>The net change of the row now at <paramref name="key"/>; a row the round has not touched was in the local table.</summary>
    private static NetChange Existing(Dictionary<KeyBytes, NetChange> current, List<NetChange> order, KeyBytes key, Lsn lsn)
    {
        if (current.TryGetValue(key, out var net)) return net;
        net = new NetChange(key.Bytes, lsn);
        current[key] = net;
        order.Add(net);
        return net;
    }

    /// <summary>The row's fields; an unchanged TOAST field takes the round's previous image of that row when there is one.</summary>
    private static FieldValue[] Image(DecodedRow row, FieldValue[]? previous)
    {
        var fields = new FieldValue[row.FieldCount];
        for (var i = 0; i < fields.Length; i++)
            fields[i] = row.State(i) == FieldState.UnchangedToast && previous is not null ? previous[i] : FieldValue.From(row, i);
        return fields;
    }

    private KeyBytes KeyOf(DecodedRow row)
    {
        var length = 0;
        foreach (var index in _keyFields) length += 4 + row.Field(index).Length;
        var bytes = new byte[length];
        var position = 0;
        foreach (var index in _keyFields)
        {
            var field = row.Field(index);
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(position), row.State(index) == FieldState.Value ? field.Length : -1);
            field.CopyTo(bytes.AsSpan(position + 4));
            position += 4 + field.Length;
        }

        return new KeyBytes(bytes);
    }

    private async Task FlushRoundAsync(NpgsqlConnection connection, List<NetChange> order, CancellationToken cancellationToken)
    {
        await EnsureStageAsync(connection, cancellationToken).ConfigureAwait(false);

        // Each distinct set of untouched TOAST columns gets its own UPDATE, which leaves those columns out.
        var masks = new Dictionary<string, (int Id, HashSet<int> Skipped)>(StringComparer.Ordinal);
        long deletes = 0, updates = 0;
        await using (var writer = await connection.BeginRawBinaryCopyAsync($"COPY {_stage} FROM STDIN (FORMAT binary)", cancellationToken).ConfigureAwait(false))
        {
            var buffer = new MemoryStream();
            buffer.Write(CopyBinaryFormat.Signature);
            buffer.Write(new byte[8]);
            foreach (var net in order)
            {
                short op;
                if (net.Row is null)
                {
                    if (net.OriginKey is null) continue; // inserted and deleted within the round
                    op = OpDelete;
                    deletes++;
                }
                else
                {
                    op = net.OriginKey is null ? OpInsert : OpUpdate;
                    if (op == OpUpdate) updates++;
                }

                var mask = 0;
                if (net.Row is { } fields && fields.Any(f => f.State == FieldState.UnchangedToast))
                {
                    if (op == OpInsert)
                        throw new ApplyConflictException(_table.ToString(), net.Lsn, "an update keeps a TOASTed value of a row the local table does not have");
                    var skipped = Enumerable.Range(0, fields.Length).Where(i => fields[i].State == FieldState.UnchangedToast).ToHashSet();
                    var pattern = string.Join(',', skipped);
                    if (!masks.TryGetValue(pattern, out var entry)) masks[pattern] = entry = (masks.Count + 1, skipped);
                    mask = entry.Id;
                }

                WriteStageRow(buffer, op, net, mask);
                if (buffer.Length > 1 << 20)
                {
                    await writer.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
                    buffer.SetLength(0);
                }
            }

            buffer.Write([0xFF, 0xFF]);
            await writer.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
        }

        var originMatch = string.Join(" AND ", _keyFields.Select((field, i) => $"t.{Column(field)} = s._ds_ok{i}"));
        var newKeyMatch = string.Join(" AND ", _keyFields.Select(field => $"t.{Column(field)} = s.{Column(field)}"));
        var columnList = string.Join(", ", _columns.Select(SqlIdentifier.Quote));
        await ExecuteAsync(connection, "SAVEPOINT datasync_round", cancellationToken).ConfigureAwait(false);

        var deleted = await ExecuteAsync(connection, $"DELETE FROM {_table.Quoted} t USING {_stage} s WHERE s._ds_op = {OpDelete} AND {originMatch}", cancellationToken).ConfigureAwait(false);
        if (_onConflict == OnConflict.Fail && deleted != deletes)
            await ConflictAsync(connection, OpDelete, originMatch, "the row to delete is not in the local table", cancellationToken).ConfigureAwait(false);

        long updated = 0;
        foreach (var (id, skipped) in masks.Values.Prepend((0, new HashSet<int>())))
        {
            var set = string.Join(", ", Enumerable.Range(0, _columns.Length).Where(i => !skipped.Contains(i)).Select(i => $"{Column(i)} = s.{Column(i)}"));
            updated += await ExecuteAsync(connection,
                $"UPDATE {_table.Quoted} t SET {set} FROM {_stage} s WHERE s._ds_op = {OpUpdate} AND s._ds_mask = {id} AND {originMatch}",
                cancellationToken).ConfigureAwait(false);
        }

        if (_onConflict == OnConflict.Fail)
        {
            if (updated != updates)
                await ConflictAsync(connection, OpUpdate, originMatch, "the row to update is not in the local table", cancellationToken).ConfigureAwait(false);
            try
            {
                await ExecuteAsync(connection, $"INSERT INTO {_table.Quoted} ({columnList}) SELECT {columnList} FROM {_stage} s WHERE s._ds_op = {OpInsert}", cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                await ConflictAsync(connection, OpInsert, newKeyMatch, $"the inserted key is already in the local table ({e.ConstraintName})", cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            // Overwrite: rows whose update found nothing, and inserts, become upserts on the key.
            var conflictTarget = string.Join(", ", _keyFields.Select(Column));
            var assignments = string.Join(", ", Enumerable.Range(0, _columns.Length).Where(i => !_keyFields.Contains(i)).Select(i => $"{Column(i)} = EXCLUDED.{Column(i)}"));
            await ExecuteAsync(connection,
                $"INSERT INTO {_table.Quoted} ({columnList}) SELECT {columnList} FROM {_stage} s " +
                $"WHERE s._ds_mask = 0 AND (s._ds_op = {OpInsert} OR (s._ds_op = {OpUpdate} AND NOT EXISTS (SELECT 1 FROM {_table.Quoted} t WHERE {newKeyMatch}))) " +
                $"ON CONFLICT ({conflictTarget}) {(assignments.Length == 0 ? "DO NOTHING" : "DO UPDATE SET " + assignments)}",
                cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, $"RELEASE SAVEPOINT datasync_round; TRUNCATE {_stage}", cancellationToken).ConfigureAwait(false);
    }

    private string Column(int index) => SqlIdentifier.Quote(_columns[index]);

    /// <summary>Rolls the round back and names the first change that does not fit.</summary>
    private async Task ConflictAsync(NpgsqlConnection connection, short op, string keyMatch, string what, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_round", cancellationToken).ConfigureAwait(false);
        var exists = $"EXISTS (SELECT 1 FROM {_table.Quoted} t WHERE {keyMatch})";
        var condition = op == OpInsert ? exists : "NOT " + exists;
        await using var find = new NpgsqlCommand($"SELECT _ds_lsn FROM {_stage} s WHERE s._ds_op = {op} AND {condition} ORDER BY _ds_lsn LIMIT 1", connection);
        var lsn = await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long value ? new Lsn((ulong)value) : Lsn.Invalid;
        throw new ApplyConflictException(_table.ToString(), lsn, what);
    }

    private async Task EnsureStageAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (_stageCreated) return;
        // CREATE TABLE AS copies no constraints, so a delete can stage its key alone. The _ds_ok
        // columns hold where the row was when the round began; the table's columns its final image.
        var originColumns = string.Join(", ", _keyFields.Select((field, i) => $"t.{Column(field)} AS _ds_ok{i}"));
        var columnList = string.Join(", ", _columns.Select(c => "t." + SqlIdentifier.Quote(c)));
        await ExecuteAsync(connection,
            $"CREATE TEMP TABLE IF NOT EXISTS {_stage} ON COMMIT DROP AS SELECT 0::int2 AS _ds_op, 0::int8 AS _ds_lsn, 0::int4 AS _ds_mask, {originColumns}, {columnList} FROM {_table.Quoted} t WITH NO DATA",
            cancellationToken).ConfigureAwait(false);
        _stageCreated = true;
    }

    private void WriteStageRow(MemoryStream buffer, short op, NetChange net, int mask)
    {
        Span<byte> scratch = stackalloc byte[8];
        BinaryPrimitives.WriteInt16BigEndian(scratch, (short)(3 + _keyFields.Length + _columns.Length));
        buffer.Write(scratch[..2]);
        BinaryPrimitives.WriteInt32BigEndian(scratch, 2);
        BinaryPrimitives.WriteInt16BigEndian(scratch[4..], op);
        buffer.Write(scratch[..6]);
        BinaryPrimitives.WriteInt32BigEndian(scratch, 8);
        buffer.Write(scratch[..4]);
        BinaryPrimitives.WriteInt64BigEndian(scratch, (long)net.Lsn.Value);
        buffer.Write(scratch[..8]);
        BinaryPrimitives.WriteInt32BigEndian(scratch, 4);
        BinaryPrimitives.WriteInt32BigEndian(scratch[4..], mask);
        buffer.Write(scratch[..8]);

        // The origin key is already a sequence of length-prefixed fields.
        if (net.OriginKey is { } origin) buffer.Write(origin);
        else for (var i = 0; i < _keyFields.Length; i++) WriteValue(buffer, scratch, null);

        if (net.Row is { } fields)
            foreach (var field in fields) WriteValue(buffer, scratch, field.State == FieldState.Value ? field.Bytes : null);
        else
            for (var i = 0; i < _columns.Length; i++) WriteValue(buffer, scratch, null);
    }

    private static void WriteValue(MemoryStream buffer, Span<byte> scratch, byte[]? value)
    {
        BinaryPrimitives.WriteInt32BigEndian(scratch, value?.Length ?? -1);
        buffer.Write(scratch[..4]);
        if (value is not null) buffer.Write(value);
    }

    private static async Task<long> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A key as bytes with value equality, for the round's dictionary.</summary>
    private readonly struct KeyBytes(byte[] bytes) : IEquatable<KeyBytes>
    {
        public byte[] Bytes { get; } = bytes;

        public bool Equals(KeyBytes other) => Bytes.AsSpan().SequenceEqual(other.Bytes);

        public override bool Equals(object? obj) => obj is KeyBytes other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.AddBytes(Bytes);
            return hash.ToHashCode();
        }
    }
}
