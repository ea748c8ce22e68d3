using DataSync.Core.Configuration;
using DataSync.Core.Tables;
using DataSync.Wal;
using DataSync.Wal.Changes;
using DataSync.Wal.Values;
using Npgsql;

namespace DataSync.Core.Apply;

/// <summary>
/// Applies one table's committed row changes to the local table, set-based. Changes are taken in
/// rounds and netted out per row in commit order (<see cref="ChangeRound"/>). Rows the local table has are streamed as COPY BINARY into a
/// temporary staging table and merged with one DELETE and one UPDATE per set of untouched TOAST columns (deletes by a
/// one-column key skip the staging table: <see cref="KeyArrayDeleter"/>);
/// new rows go by COPY straight into the table, and only when that meets a key the table already has are
/// they staged too, to name the conflict or to upsert. Columns binary COPY cannot carry (<see cref="TextCarriedColumn"/>) are
/// staged as text and cast in the statements that move them into the table; a table with such a column stages its new rows
/// as well, since they cannot be copied into it directly. A full round is merged on the connection while the
/// next one is being netted, so decoding and the local server work at the same time. Everything runs
/// inside the caller's transaction, which also carries the table's checkpoint, so a batch applies
/// entirely or not at all.
/// </summary>
public sealed class TableChangeApplier
{
    private readonly TableName _table;
    private readonly OnConflict _onConflict;
    private readonly int _roundSize;
    private readonly RoundSizes _roundSizes;
    private readonly string _stage;
    private readonly MemoryStream _copyBuffer = new();
    private readonly KeyArrayDeleter _keyArrayDeleter;
    private string[] _columns = [];
    private int[] _keyFields = [];
    private HashSet<int>? _alwaysIdentity;

    /// <summary>Whether the round's updates may be applied as replacements (<see cref="ReplaceableAsync"/>); null before it was read.</summary>
    private bool? _replaceable;

    /// <summary>Whether row-level security applies to the apply user (<see cref="RowSecurityActiveAsync"/>); null before it was read.</summary>
    private bool? _rowSecurityActive;

    /// <summary>The table as the statements that change or match its rows name it (<see cref="OwnRows"/>); null before it was read.</summary>
    private string? _target;

    /// <summary>Per column, how it is carried as text when binary COPY cannot carry it; null for the others. Read once, with the columns.</summary>
    private TextCarriedColumn?[]? _textCarried;
    private string _meta = "_ds_";
    private bool _stageCreated;
    private ChangeRound _round;
    private ChangeRound? _spare;
    private Task _merging = Task.CompletedTask;

    public TableChangeApplier(TableName table, OnConflict onConflict, int roundSize = 20_000)
    {
        _table = table;
        _onConflict = onConflict;
        _roundSize = roundSize;
        _roundSizes = new RoundSizes(roundSize);
        _round = new ChangeRound(roundSize);
        // A staging name no identifier can break: a hash of the table's name.
        _stage = "datasync_stage_" + table.Digest(16);
        _keyArrayDeleter = new KeyArrayDeleter(table);
    }

    /// <summary>Changes taken since <see cref="Begin"/>, counted as production made them.</summary>
    public ApplyCounts Counts { get; private set; }

    /// <summary>Applies <paramref name="changes"/> (this table's, in commit order) through <paramref name="connection"/>, inside its open transaction.</summary>
    public async Task<ApplyCounts> ApplyAsync(NpgsqlConnection connection, IEnumerable<RowChange> changes, CancellationToken cancellationToken)
    {
        Begin();
        try
        {
            foreach (var change in changes) await AddAsync(connection, change, cancellationToken).ConfigureAwait(false);
            await FlushAsync(connection, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await SettleAsync().ConfigureAwait(false);
        }

        return Counts;
    }

    /// <summary>Starts a batch in a new local transaction (its staging table is dropped at every commit).</summary>
    public void Begin()
    {
        if (!_merging.IsCompleted) throw new InvalidOperationException($"{_table}: a round is still being merged; settle it first");
        _merging = Task.CompletedTask;
        _stageCreated = false;
        _keyArrayDeleter.Begin();
        _roundSizes.Restart();
        _round.Clear();
        Counts = default;
    }

    /// <summary>
    /// The table's columns changed (an upstream ALTER followed locally, after <see cref="FlushAsync"/>): the next change
    /// sets the column list again, and a staging table made for the old columns in this transaction is dropped.
    /// </summary>
    public async Task ReshapeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        _columns = [];
        _keyFields = [];
        _alwaysIdentity = null;
        _replaceable = null;
        _rowSecurityActive = null;
        _target = null;
        // Read again for the new columns: the list is by position, and an added column may need text as well.
        _textCarried = null;
        _meta = "_ds_";
        await _keyArrayDeleter.ReshapeAsync(connection, cancellationToken).ConfigureAwait(false);
        if (!_stageCreated) return;
        await ExecuteAsync(connection, $"DROP TABLE IF EXISTS {_stage}", cancellationToken).ConfigureAwait(false);
        _stageCreated = false;
    }

    /// <summary>Counts the rows an upstream TRUNCATE removed from the table in this batch.</summary>
    public void CountTruncated(long rows) => Counts += new ApplyCounts(0, 0, 0, rows);

    /// <summary>Takes one change into the round; true when the round is full and should be merged (<see cref="MergeRoundAsync"/>).</summary>
    public bool Add(RowChange change)
    {
        EnsureShape(change);
        Counts += change.Kind switch
        {
            ChangeKind.Insert => new ApplyCounts(1, 0, 0),
            ChangeKind.Update => new ApplyCounts(0, 1, 0),
            _ => new ApplyCounts(0, 0, 1),
        };
        _round.Add(change, _keyFields);
        return _round.Order.Count >= _roundSizes.Current || _round.Bytes >= RoundBytes;
    }

    /// <summary>Takes one change; a full round is handed to the connection at once.</summary>
    public async Task AddAsync(NpgsqlConnection connection, RowChange change, CancellationToken cancellationToken)
    {
        if (Add(change)) await MergeRoundAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits for the previous round's merge (surfacing its conflict, if any), then starts merging the current
    /// round in the background and opens a new one. The connection is the merge's until the next call here,
    /// <see cref="FlushAsync"/> or <see cref="SettleAsync"/>.
    /// </summary>
    public async Task MergeRoundAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await AwaitMergingAsync().ConfigureAwait(false);
        if (_round.Order.Count == 0) return;
        var round = _round;
        _roundSizes.Grow();
        // Two rounds take turns (one netting, one merging), so their large arrays are not allocated again per round.
        _round = _spare ?? new ChangeRound(_roundSize);
        _spare = null;
        _merging = Task.Run(async () =>
        {
            await MergeAsync(connection, round.Order, cancellationToken).ConfigureAwait(false);
            round.Clear();
            _spare = round;
        }, cancellationToken);
    }

    /// <summary>Merges everything taken so far and waits for it; needed before a TRUNCATE and at the end of a batch.</summary>
    public async Task FlushAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await MergeRoundAsync(connection, cancellationToken).ConfigureAwait(false);
        await AwaitMergingAsync().ConfigureAwait(false);
    }

    /// <summary>Waits for a merge still running, ignoring how it ends: the caller is about to roll the transaction back.</summary>
    public async Task SettleAsync()
    {
        try
        {
            await AwaitMergingAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Whatever the merge did is rolled back with the transaction.
        }

        _round.Clear();
    }

    private async Task AwaitMergingAsync()
    {
        var merging = _merging;
        _merging = Task.CompletedTask;
        await merging.ConfigureAwait(false);
    }

    /// <summary>
    /// Empties tables (an upstream TRUNCATE, or before a bootstrap copy) in the caller's transaction: one
    /// TRUNCATE of them all, or, when a local table outside the set references one of them, a DELETE of
    /// each (the apply session's replica role keeps foreign keys from firing).
    /// </summary>
    public static async Task<bool> TruncateAsync(NpgsqlConnection connection, IReadOnlyList<TableName> tables, CancellationToken cancellationToken)
    {
        var truncated = true;
        var targets = new List<string>(tables.Count);
        foreach (var table in tables) targets.Add(await OwnRows.NameAsync(connection, table, cancellationToken).ConfigureAwait(false));
        await ExecuteAsync(connection, "SAVEPOINT datasync_truncate", cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, $"TRUNCATE {string.Join(", ", targets)}", cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.FeatureNotSupported)
        {
            await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_truncate", cancellationToken).ConfigureAwait(false);
            foreach (var target in targets) await ExecuteAsync(connection, $"DELETE FROM {target}", cancellationToken).ConfigureAwait(false);
            truncated = false;
        }

        await ExecuteAsync(connection, "RELEASE SAVEPOINT datasync_truncate", cancellationToken).ConfigureAwait(false);
        return truncated;
    }

    /// <summary>The rows the table holds now, in the caller's transaction (what a TRUNCATE about to run removes).</summary>
    public static async Task<long> CountRowsAsync(NpgsqlConnection connection, TableName table, CancellationToken cancellationToken)
    {
        var target = await OwnRows.NameAsync(connection, table, cancellationToken).ConfigureAwait(false);
        await using var command = ApplySession.Command($"SELECT count(*) FROM {target}", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private void EnsureShape(RowChange change)
    {
        // Apart: the lambdas below capture the row, and their closure would be made at every call, not only the first.
        if (_columns.Length == 0) LearnShape(change);
    }

    private void LearnShape(RowChange change)
    {
        var row = change.NewRow ?? change.OldKey ?? throw new InvalidOperationException($"{change} carries no row");
        _columns = row.Columns.Select(c => c.Name).ToArray();
        _keyFields = change.Table.KeyAttNums.Select(a => row.IndexOf(a)).ToArray();
        // The staging table's own columns take a prefix no column of the table starts with, so a table with a column
        // named _ds_op (or _ds_ok0...) stages like any other.
        while (_columns.Any(c => c.StartsWith(_meta, StringComparison.Ordinal))) _meta = "_" + _meta;
        if (_keyFields.Length == 0 || _keyFields.Any(i => i < 0))
            throw new InvalidOperationException($"{_table}: production's replica identity columns are not all among the copied columns");
    }

    /// <summary>One round: staged rows first (deletes, updates, moves), then the new rows, so a key freed in the round can be taken again.</summary>
    private async Task MergeAsync(NpgsqlConnection connection, List<NetChange> order, CancellationToken cancellationToken)
    {
        await ReadTextCarriedAsync(connection, cancellationToken).ConfigureAwait(false);
        _target ??= await OwnRows.NameAsync(connection, _table, cancellationToken).ConfigureAwait(false);
        if (order.Exists(n => n.IsStaged) && !await ReplaceByKeyArrayAsync(connection, order, cancellationToken).ConfigureAwait(false))
            await MergeStagedAsync(connection, order, cancellationToken).ConfigureAwait(false);
        if (order.Exists(n => n.IsInsert)) await InsertAsync(connection, order, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A round's updates (and deletes) as one DELETE of their rows by key array and one COPY of the final images straight
    /// into the table, which costs the server about half of what UPDATE … FROM a staging table does: the updated rows are
    /// found by one ordered index walk and written as new rows either way. Taken only where that is the same as updating
    /// them: a one-column key, images that carry every column (no untouched TOAST value, nothing carried as text), and a
    /// local table whose columns are all production's, which has no rule and no trigger that fires under the apply
    /// session's replica role, and whose row-level security does not apply to the apply user (its INSERT and DELETE
    /// policies are not its UPDATE ones) (<see cref="ReplaceableAsync"/>). Returns false, with nothing changed, when it is not taken
    /// or when a row to change is missing locally or an image meets a key or unique value another row holds: the
    /// staging table's way then names the conflict or settles it.
    /// </summary>
    private async Task<bool> ReplaceByKeyArrayAsync(NpgsqlConnection connection, List<NetChange> order, CancellationToken cancellationToken)
    {
        if (_keyFields.Length != 1 || HasTextCarried) return false;
        if (!order.Exists(n => n.IsStaged && n.Row is not null) || order.Exists(n => n.IsStaged && n.Row is { HasUnchangedToast: true })) return false;
        if (!await ReplaceableAsync(connection, cancellationToken).ConfigureAwait(false)) return false;
        if (!await _keyArrayDeleter.PrepareAsync(connection, _columns[_keyFields[0]], textCarried: false, cancellationToken).ConfigureAwait(false)) return false;

        var staged = order.Where(n => n.IsStaged);
        long rows = order.Count(n => n.IsStaged);
        await ExecuteAsync(connection, "SAVEPOINT datasync_replace", cancellationToken).ConfigureAwait(false);
        try
        {
            var deleted = await _keyArrayDeleter.DeleteAsync(connection, Target, staged.Select(n => n.OriginKey!), cancellationToken).ConfigureAwait(false);
            if (deleted == rows)
            {
                await CopyImagesAsync(connection, staged.Where(n => n.Row is not null), cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"RELEASE SAVEPOINT datasync_replace{_keyArrayDeleter.TakeEmptyStatement()}", cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.ExclusionViolation)
        {
            // Settled below, the staging table's way.
        }

        await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_replace; RELEASE SAVEPOINT datasync_replace", cancellationToken).ConfigureAwait(false);
        return false;
    }

    /// <summary>Whether row-level security applies to the apply user on this table (its policies, not a bypass); read once per shape.</summary>
    private async Task<bool> RowSecurityActiveAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        _rowSecurityActive ??= await RowSecurity.ActiveAsync(connection, _table, cancellationToken).ConfigureAwait(false);
        return _rowSecurityActive.Value;
    }

    /// <summary>
    /// Whether replacing a row (delete, then insert its final image) is the same as updating it in the local table: every
    /// column it has but generated ones is one of production's (a column of its own would be reset), it has no rule,
    /// none of its triggers (or its partitions') is enabled ALWAYS or REPLICA, which would fire under the apply session's
    /// replica role and see a delete and an insert instead of an update, no row-level security applies to the apply user
    /// (its DELETE and INSERT policies are not its UPDATE ones, and the server refuses the COPY), and no local publication
    /// carries it onwards. Read once per shape.
    /// </summary>
    private async Task<bool> ReplaceableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (_replaceable is { } known) return known;
        await using var command = new NpgsqlCommand("""
            WITH tree AS (SELECT $1::regclass AS relid UNION SELECT relid FROM pg_partition_tree($1::regclass))
            SELECT NOT EXISTS (SELECT 1 FROM tree JOIN pg_class c ON c.oid = tree.relid WHERE c.relhasrules)
               AND NOT EXISTS (SELECT 1 FROM tree JOIN pg_trigger g ON g.tgrelid = tree.relid WHERE NOT g.tgisinternal AND g.tgenabled IN ('A', 'R'))
               AND NOT EXISTS (SELECT 1 FROM tree WHERE row_security_active(tree.relid))
               AND NOT EXISTS (SELECT 1 FROM pg_publication_tables p JOIN pg_namespace n ON n.nspname = p.schemaname
                                 JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = p.tablename WHERE c.oid IN (SELECT relid FROM tree))
               AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
                                                            AND a.attname::text <> ALL ($2))
            """, connection);
        command.Parameters.AddWithValue(_table.Quoted);
        command.Parameters.AddWithValue(_columns);
        _replaceable = (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return _replaceable.Value;
    }

    private async Task MergeStagedAsync(NpgsqlConnection connection, List<NetChange> order, CancellationToken cancellationToken)
    {
        // Deletes by a one-column key go as key arrays (KeyArrayDeleter); the others, and every update, through the staging table.
        var byKeyArray = _keyFields.Length == 1 && order.Exists(n => n.IsStaged && n.Row is null)
            && await _keyArrayDeleter.PrepareAsync(connection, _columns[_keyFields[0]], _textCarried?[_keyFields[0]] is not null, cancellationToken).ConfigureAwait(false);
        var stagedRows = order.Where(n => n.IsStaged && !(byKeyArray && n.Row is null));
        var staging = !byKeyArray || order.Exists(n => n.IsStaged && n.Row is not null);
        if (staging) await EnsureStageAsync(connection, cancellationToken).ConfigureAwait(false);

        // Each distinct set of untouched TOAST columns gets its own UPDATE, which leaves those columns out.
        var masks = new Dictionary<string, (int Id, HashSet<int> Skipped)>(StringComparer.Ordinal);
        var shapes = new HashSet<(short Op, int Mask)>();
        long deletes = byKeyArray ? order.Count(n => n.IsStaged && n.Row is null) : 0, updates = 0;
        if (staging) await StageAsync(connection, stagedRows, net =>
        {
            if (net.Row is not { } row)
            {
                deletes++;
                return (StagingRow.Delete, 0);
            }

            updates++;
            var op = net.KeyMoved ? StagingRow.Move : StagingRow.Update;
            var mask = 0;
            if (row.HasUnchangedToast)
            {
                var skipped = Enumerable.Range(0, row.FieldCount).Where(i => row.State(i) == FieldState.UnchangedToast).ToHashSet();
                var pattern = string.Join(',', skipped);
                if (!masks.TryGetValue(pattern, out var entry)) masks[pattern] = entry = (masks.Count + 1, skipped);
                mask = entry.Id;
            }

            shapes.Add((op, mask));
            return (op, mask);
        }, cancellationToken).ConfigureAwait(false);

        var originMatch = OriginMatch;
        await ExecuteAsync(connection, "SAVEPOINT datasync_round", cancellationToken).ConfigureAwait(false);

        var deleted = deletes == 0 ? 0
            : byKeyArray
                ? await _keyArrayDeleter.DeleteAsync(connection, Target, order.Where(n => n.IsStaged && n.Row is null).Select(n => n.OriginKey!), cancellationToken).ConfigureAwait(false)
                : await ExecuteAsync(connection, $"DELETE FROM {Target} t USING {_stage} s WHERE s.{Meta("op")} = {StagingRow.Delete} AND {originMatch}", cancellationToken).ConfigureAwait(false);
        if (_onConflict == OnConflict.Fail && deleted != deletes)
        {
            if (byKeyArray)
            {
                // Rare: which delete missed is found through the staging table, as for any other key.
                await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_round", cancellationToken).ConfigureAwait(false);
                await EnsureStageAsync(connection, cancellationToken).ConfigureAwait(false);
                await StageAsync(connection, order.Where(n => n.IsStaged && n.Row is null), _ => (StagingRow.Delete, 0), cancellationToken).ConfigureAwait(false);
            }

            await ConflictAsync(connection, $"s.{Meta("op")} = {StagingRow.Delete}", false, originMatch, "the row to delete is not in the local table",
                byKeyArray ? null : "datasync_round", cancellationToken).ConfigureAwait(false);
        }

        if (updates > 0) await UpdateStagedAsync(connection, shapes, masks.Values.ToDictionary(m => m.Id, m => m.Skipped), updates, originMatch, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"RELEASE SAVEPOINT datasync_round{(staging ? $"; TRUNCATE {_stage}" : "")}{_keyArrayDeleter.TakeEmptyStatement()}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The round's staged updates, <paramref name="updates"/> of them in <paramref name="shapes"/>, inside the round's savepoint.
    /// </summary>
    private async Task UpdateStagedAsync(NpgsqlConnection connection, HashSet<(short Op, int Mask)> shapes, Dictionary<int, HashSet<int>> skippedOf, long updates,
        string originMatch, CancellationToken cancellationToken)
    {
        // One UPDATE per shape (key kept or moved, TOAST columns left out). Where the key stayed, the key
        // columns are not assigned: the statement then carries and compares only what can have changed.
        long updated = 0;
        var always = await AlwaysIdentityAsync(connection, cancellationToken).ConfigureAwait(false);
        var replaced = new List<(short Op, int Mask)>();
        await ExecuteAsync(connection, "SAVEPOINT datasync_updates", cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var (op, mask) in shapes)
            {
                var skipped = mask == 0 ? [] : skippedOf[mask];
                var assigned = Enumerable.Range(0, _columns.Length).Where(i => !skipped.Contains(i)).ToList();
                if (op == StagingRow.Update && assigned.Any(i => !_keyFields.Contains(i))) assigned.RemoveAll(i => _keyFields.Contains(i));
                if (assigned.Any(always.Contains))
                {
                    // A GENERATED ALWAYS identity column takes no value in an UPDATE: these rows are replaced instead.
                    replaced.Add((op, mask));
                    continue;
                }

                var set = string.Join(", ", assigned.Select(i => $"{Column(i)} = {Staged(i)}"));
                updated += await ExecuteAsync(connection,
                    $"UPDATE {Target} t SET {set} FROM {_stage} s WHERE s.{Meta("op")} = {op} AND s.{Meta("mask")} = {mask} AND {originMatch}",
                    cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.ExclusionViolation)
        {
            // Rows exchanged unique values (or keys) within the round: production changed them one at a time, each step
            // valid, but one set-based UPDATE meets a value another row still holds. Every update of the round is
            // applied again as delete-then-insert, which passes through no such state.
            await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_updates", cancellationToken).ConfigureAwait(false);
            updated = 0;
            replaced = [.. shapes];
        }

        if (replaced.Count > 0) updated += await ReplaceAsync(connection, replaced, skippedOf, originMatch, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, "RELEASE SAVEPOINT datasync_updates", cancellationToken).ConfigureAwait(false);

        if (updated != updates)
        {
            if (_onConflict == OnConflict.Fail)
                await ConflictAsync(connection, $"s.{Meta("op")} IN ({StagingRow.Update}, {StagingRow.Move})", false, originMatch, "the row to update is not in the local table", "datasync_round", cancellationToken).ConfigureAwait(false);

            // Overwrite: an update whose row is missing locally becomes an upsert of its final image.
            await UpsertAsync(connection, $"s.{Meta("op")} IN ({StagingRow.Update}, {StagingRow.Move}) AND s.{Meta("mask")} = 0 AND NOT EXISTS (SELECT 1 FROM {Target} t WHERE {NewKeyMatch})", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Applies the staged updates of <paramref name="shapes"/> as a DELETE of their rows and an INSERT of their final
    /// images: the values of untouched TOAST columns are first taken from the local rows into the staging table, and
    /// the rows found are marked (mask -1), so only those are inserted again. Returns how many rows it replaced.
    /// </summary>
    private async Task<long> ReplaceAsync(NpgsqlConnection connection, List<(short Op, int Mask)> shapes, Dictionary<int, HashSet<int>> skippedOf,
        string originMatch, CancellationToken cancellationToken)
    {
        foreach (var (op, mask) in shapes)
        {
            var taken = mask == 0 ? "" : string.Concat(skippedOf[mask].Select(i => $", {Column(i)} = {AsStaged(i, $"t.{Column(i)}")}"));
            await ExecuteAsync(connection,
                $"UPDATE {_stage} s SET {Meta("mask")} = -1{taken} FROM {Target} t WHERE s.{Meta("op")} = {op} AND s.{Meta("mask")} = {mask} AND {originMatch}",
                cancellationToken).ConfigureAwait(false);
        }

        var replaced = await ExecuteAsync(connection, $"DELETE FROM {Target} t USING {_stage} s WHERE s.{Meta("mask")} = -1 AND {originMatch}", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection,
            $"INSERT INTO {_table.Quoted} ({ColumnList}) OVERRIDING SYSTEM VALUE SELECT {StagedList} FROM {_stage} s WHERE s.{Meta("mask")} = -1",
            cancellationToken).ConfigureAwait(false);
        return replaced;
    }

    /// <summary>The indexes of the columns the local table has as GENERATED ALWAYS AS IDENTITY (read once).</summary>
    private async Task<HashSet<int>> AlwaysIdentityAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (_alwaysIdentity is { } known) return known;
        await using var command = new NpgsqlCommand(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attidentity = 'a'", connection);
        command.Parameters.AddWithValue(_table.Quoted);
        var names = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) names.Add(reader.GetString(0));
        return _alwaysIdentity = Enumerable.Range(0, _columns.Length).Where(i => names.Contains(_columns[i])).ToHashSet();
    }

    /// <summary>
    /// New rows go by COPY straight into the table. When one meets a key the table already has, the COPY is
    /// undone and the rows are staged: to name the first such change (fail), or to upsert them (overwrite).
    /// </summary>
    private async Task InsertAsync(NpgsqlConnection connection, List<NetChange> order, CancellationToken cancellationToken)
    {
        foreach (var net in order)
            if (net.IsInsert && net.Row!.HasUnchangedToast)
                throw new ApplyConflictException(_table.ToString(), net.Lsn, "an update keeps a TOASTed value of a row the local table does not have");

        // A row with a text-carried column cannot be copied into the table, and the server refuses COPY into a table whose
        // row-level security applies to the apply user: the new rows are staged first and inserted from there.
        var staged = HasTextCarried || await RowSecurityActiveAsync(connection, cancellationToken).ConfigureAwait(false);
        if (staged)
        {
            await EnsureStageAsync(connection, cancellationToken).ConfigureAwait(false);
            await StageAsync(connection, order.Where(n => n.IsInsert), _ => (StagingRow.Insert, 0), cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, "SAVEPOINT datasync_insert", cancellationToken).ConfigureAwait(false);
        string constraint;
        try
        {
            if (staged)
            {
                await ExecuteAsync(connection,
                    $"INSERT INTO {_table.Quoted} ({ColumnList}) OVERRIDING SYSTEM VALUE SELECT {StagedList} FROM {_stage} s WHERE s.{Meta("op")} = {StagingRow.Insert}",
                    cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(connection, $"RELEASE SAVEPOINT datasync_insert; TRUNCATE {_stage}", cancellationToken).ConfigureAwait(false);
                return;
            }

            await CopyImagesAsync(connection, order.Where(n => n.IsInsert), cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "RELEASE SAVEPOINT datasync_insert", cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            constraint = e.ConstraintName ?? "a unique index";
        }

        await ExecuteAsync(connection, "ROLLBACK TO SAVEPOINT datasync_insert", cancellationToken).ConfigureAwait(false);
        if (!staged)
        {
            await EnsureStageAsync(connection, cancellationToken).ConfigureAwait(false);
            await StageAsync(connection, order.Where(n => n.IsInsert), _ => (StagingRow.Insert, 0), cancellationToken).ConfigureAwait(false);
        }

        if (_onConflict == OnConflict.Fail)
        {
            await ConflictAsync(connection, $"s.{Meta("op")} = {StagingRow.Insert}", true, NewKeyMatch, $"the inserted key is already in the local table ({constraint})", null, cancellationToken).ConfigureAwait(false);
        }

        await UpsertAsync(connection, $"s.{Meta("op")} = {StagingRow.Insert}", cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, $"RELEASE SAVEPOINT datasync_insert; TRUNCATE {_stage}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Overwrite: staged final images matching <paramref name="condition"/> replace whatever row holds their key.</summary>
    private async Task UpsertAsync(NpgsqlConnection connection, string condition, CancellationToken cancellationToken)
    {
        var conflictTarget = string.Join(", ", _keyFields.Select(Column));
        var always = await AlwaysIdentityAsync(connection, cancellationToken).ConfigureAwait(false);
        var assignments = string.Join(", ", Enumerable.Range(0, _columns.Length).Where(i => !_keyFields.Contains(i) && !always.Contains(i))
            .Select(i => $"{Column(i)} = EXCLUDED.{Column(i)}"));
        await ExecuteAsync(connection,
            $"INSERT INTO {_table.Quoted} ({ColumnList}) OVERRIDING SYSTEM VALUE SELECT {StagedList} FROM {_stage} s WHERE {condition} " +
            $"ON CONFLICT ({conflictTarget}) {(assignments.Length == 0 ? "DO NOTHING" : "DO UPDATE SET " + assignments)}",
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Streams <paramref name="rows"/> into the staging table, each with the operation and TOAST mask <paramref name="classify"/> gives it.</summary>
    private Task StageAsync(NpgsqlConnection connection, IEnumerable<NetChange> rows, Func<NetChange, (short Op, int Mask)> classify, CancellationToken cancellationToken) =>
        CopyRowsAsync(connection, $"COPY {_stage} FROM STDIN (FORMAT binary)", rows, (buffer, net) =>
        {
            var (op, mask) = classify(net);
            StagingRow.Write(buffer, op, net, mask, _keyFields.Length, _columns.Length);
        }, cancellationToken);

    /// <summary>The final images of <paramref name="rows"/> copied straight into the table: each image is already the table's row in COPY form.</summary>
    private Task CopyImagesAsync(NpgsqlConnection connection, IEnumerable<NetChange> rows, CancellationToken cancellationToken) =>
        CopyRowsAsync(connection, $"COPY {_table.Quoted} ({ColumnList}) FROM STDIN (FORMAT binary)", rows, (buffer, net) => buffer.Write(net.Row!.CopyTuple), cancellationToken);

    /// <summary>One COPY BINARY of <paramref name="rows"/>, each written by <paramref name="writeRow"/>, sent in chunks of about 1 MiB.</summary>
    private async Task CopyRowsAsync(NpgsqlConnection connection, string copyCommand, IEnumerable<NetChange> rows, Action<MemoryStream, NetChange> writeRow,
        CancellationToken cancellationToken)
    {
        var buffer = _copyBuffer;
        buffer.SetLength(0);
        await using var writer = await ApplySession.CopyAsync(connection, copyCommand, cancellationToken).ConfigureAwait(false);
        buffer.Write(CopyBinaryFormat.Signature);
        buffer.Write(stackalloc byte[8]);
        foreach (var net in rows)
        {
            writeRow(buffer, net);
            if (buffer.Length > CopyChunk) await SendAsync(writer, buffer, cancellationToken).ConfigureAwait(false);
        }

        buffer.Write([0xFF, 0xFF]);
        await SendAsync(writer, buffer, cancellationToken).ConfigureAwait(false);
    }

    private const int CopyChunk = 1 << 20;

    /// <summary>A round also ends at this many bytes of row images, so wide rows keep two rounds within a few MiB as well.</summary>
    private const long RoundBytes = 8L << 20;

    private static async Task SendAsync(NpgsqlRawCopyStream writer, MemoryStream buffer, CancellationToken cancellationToken)
    {
        await writer.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
        buffer.SetLength(0);
    }

    private string ColumnList => string.Join(", ", _columns.Select(SqlIdentifier.Quote));

    /// <summary>The staged columns in table order, each as the table's type.</summary>
    private string StagedList => string.Join(", ", Enumerable.Range(0, _columns.Length).Select(Staged));

    private string OriginMatch => string.Join(" AND ", _keyFields.Select((key, i) => $"t.{Column(key)} = {FromStaged(key, $"s.{Meta("ok" + i)}")}"));

    private string NewKeyMatch => string.Join(" AND ", _keyFields.Select(key => $"t.{Column(key)} = {Staged(key)}"));

    /// <summary>Column <paramref name="index"/> of the staging row <c>s</c>, as the table's type.</summary>
    private string Staged(int index) => FromStaged(index, $"s.{Column(index)}");

    /// <summary><paramref name="value"/>, a staged value of column <paramref name="index"/>, as the table's type (cast from text for a text-carried column).</summary>
    private string Target => _target ?? throw new InvalidOperationException($"{_table}: its local relation was not read before a merge");

    private string FromStaged(int index, string value) => _textCarried?[index] is { } text ? text.FromText(value) : value;

    /// <summary><paramref name="value"/>, a value of column <paramref name="index"/> in the table, as the staging table holds it.</summary>
    private string AsStaged(int index, string value) => _textCarried?[index] is { } text ? text.ToText(value) : value;

    private bool HasTextCarried => _textCarried?.Any(c => c is not null) == true;

    private string Column(int index) => SqlIdentifier.Quote(_columns[index]);

    /// <summary>A staging-only column (op, lsn, mask, ok0...), under the prefix no column of the table starts with.</summary>
    private string Meta(string name) => SqlIdentifier.Quote(_meta + name);

    /// <summary>Rolls the round back and names the first change that does not fit.</summary>
    private async Task ConflictAsync(NpgsqlConnection connection, string ops, bool keyPresent, string keyMatch, string what, string? savepoint, CancellationToken cancellationToken)
    {
        if (savepoint is not null) await ExecuteAsync(connection, $"ROLLBACK TO SAVEPOINT {savepoint}", cancellationToken).ConfigureAwait(false);
        var exists = $"EXISTS (SELECT 1 FROM {Target} t WHERE {keyMatch})";
        var condition = keyPresent ? exists : "NOT " + exists;
        await using var find = new NpgsqlCommand($"SELECT {Meta("lsn")} FROM {_stage} s WHERE {ops} AND {condition} ORDER BY {Meta("lsn")} LIMIT 1", connection);
        var lsn = await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long value ? new Lsn((ulong)value) : Lsn.Invalid;
        throw new ApplyConflictException(_table.ToString(), lsn, what);
    }

    private async Task EnsureStageAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (_stageCreated) return;
        // CREATE TABLE AS copies no constraints, so a delete can stage its key alone. The ok
        // columns hold where the row was when the round began; the table's columns its final image.
        // A text-carried column is staged as text (the expression's type is all that counts here: no rows are selected).
        var originColumns = string.Join(", ", _keyFields.Select((field, i) => $"{StageType(field)} AS {Meta("ok" + i)}"));
        var columnList = string.Join(", ", Enumerable.Range(0, _columns.Length).Select(i => $"{StageType(i)} AS {Column(i)}"));
        await ExecuteAsync(connection,
            $"CREATE TEMP TABLE IF NOT EXISTS {_stage} ON COMMIT DROP AS SELECT 0::int2 AS {Meta("op")}, 0::int8 AS {Meta("lsn")}, 0::int4 AS {Meta("mask")}, {originColumns}, {columnList} FROM {_table.Quoted} t WITH NO DATA",
            cancellationToken).ConfigureAwait(false);
        _stageCreated = true;
    }

    private string StageType(int index) => _textCarried?[index] is not null ? $"t.{Column(index)}::text" : $"t.{Column(index)}";

    /// <summary>Learns, once, which of the table's columns binary COPY cannot carry (<see cref="TextCarriedColumn"/>).</summary>
    private async Task ReadTextCarriedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (_textCarried is not null) return;
        var text = await TextCarriedColumn.ReadAsync(connection, _table, cancellationToken).ConfigureAwait(false);
        _textCarried = _columns.Select(c => text.GetValueOrDefault(c)).ToArray();
    }

    /// <summary>Runs <paramref name="sql"/> (no parameters) and returns the rows it affected; <see cref="KeyArrayDeleter"/> and <see cref="LocalTableAlteration"/> run their statements through it too.</summary>
    internal static async Task<long> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = ApplySession.Command(sql, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
