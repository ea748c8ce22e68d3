using Npgsql;

namespace DataSync.TestRig.Workloads;

/// <summary>
/// A scripted workload on <see cref="EveryTypeTable"/> (created with <see cref="Ddl"/>): every kind of row
/// change a sync must follow, on rows holding every supported type, NULLs, limits, NaN, ±Infinity and
/// TOASTed values. Inserts, INSERT .. SELECT and COPY; HOT and non-HOT updates, key changes, updates that
/// change a TOASTed value and updates that leave it alone; deletes; savepoints rolled back and released;
/// an aborted transaction; two-phase commit and rollback; upserts; an upstream TRUNCATE; VACUUM FULL and
/// CLUSTER from a second session while this one keeps writing; and one transaction that writes more WAL
/// than a 16 MB segment. <see cref="Tally"/> counts the row changes that committed.
/// </summary>
public sealed class EveryTypeWorkload(NpgsqlConnection connection, NpgsqlConnection maintenance)
{
    /// <summary>
    /// The every-type table, with room left in its pages so small updates can be HOT, and an index on
    /// c_int8 so updates of it cannot be.
    /// </summary>
    public const string Ddl = EveryTypeTable.Ddl + """
        ALTER TABLE all_types SET (fillfactor = 70);
        CREATE INDEX all_types_c_int8 ON all_types (c_int8);
        """;

    private const string Table = EveryTypeTable.Name;

    private string _columns = "";

    /// <summary>Row changes that committed (all of <see cref="EveryTypeTable.Name"/>).</summary>
    public ChangeTally Tally { get; } = new();

    /// <summary>Bytes of WAL the largest transaction wrote.</summary>
    public long BigTransactionWalBytes { get; private set; }

    public async Task RunAsync()
    {
        // Every column but the key, to copy rows under new ids.
        _columns = await ScalarAsync<string>(
            $"SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '{Table}'::regclass AND attnum > 1 AND NOT attisdropped");

        await FillAsync();
        // Upstream TRUNCATE while the other sessions write, then the table fills again.
        await ExecuteAsync($"TRUNCATE {Table}");
        await FillAsync();

        // Updates. HOT: a small column no index covers. Not HOT: an indexed column.
        await ChangeAsync($"UPDATE {Table} SET c_int2 = coalesce(c_int2, 0) + 1 WHERE id IN (2, 3, 5, 102)");
        await ChangeAsync($"UPDATE {Table} SET c_int8 = coalesce(c_int8, 0) / 2 + 1 WHERE id IN (2, 4, 104, 202)");
        // Key changes, one of a row whose TOASTed values stay behind unchanged.
        await ChangeAsync($"UPDATE {Table} SET id = id + 1000 WHERE id IN (103, 106, 208)");
        // TOAST changed (external compressed and uncompressed), then TOAST unchanged.
        await ChangeAsync($"UPDATE {Table} SET c_text = c_text || ' changed', c_bytea = c_bytea || '\\x01'::bytea WHERE id IN (6, 9, 109)");
        // TOASTed values of the range, text-search, geometric and xml types changed (the ones beside them stay unchanged TOAST).
        await ChangeAsync($"UPDATE {Table} SET c_int4multirange = c_int4multirange + '{{[100000,100003)}}', c_tsvector = c_tsvector || 'changed:1A'::tsvector, " +
            "c_path = c_path + point '(1,1)', c_xml = xmlconcat(c_xml, '<changed/>') WHERE id IN (6, 206)");
        await ChangeAsync($"UPDATE {Table} SET c_bool = NOT coalesce(c_bool, false), c_float8 = 'NaN' WHERE id IN (6, 8, 9, 1106, 209)");
        // NULLs become limits and limits NULLs.
        await ChangeAsync($"UPDATE {Table} t SET ({_columns}) = (SELECT {_columns} FROM {Table} WHERE id = 4) WHERE t.id = 101");
        await ChangeAsync($"UPDATE {Table} t SET ({_columns}) = (SELECT {_columns} FROM {Table} WHERE id = 1) WHERE t.id = 204");
        // Deletes of small and TOASTed rows.
        await ChangeAsync($"DELETE FROM {Table} WHERE id IN (105, 107, 209, 1106)");

        await SavepointsAsync();
        await AbortedAsync();
        await TwoPhaseAsync("every-type-commit", commit: true);
        await TwoPhaseAsync("every-type-rollback", commit: false);

        // Upserts: inserted, updated (one leaving a TOASTed value alone), and one that does nothing.
        await ChangeAsync($"INSERT INTO {Table} (id, c_text, c_int4) VALUES (2, 'upserted', 1), (500, 'new', 2), (6, 'unused', 3) " +
            "ON CONFLICT (id) DO UPDATE SET c_int4 = EXCLUDED.c_int4, c_varchar = 'upsert'");
        await ChangeAsync($"INSERT INTO {Table} (id, c_text) VALUES (3, 'ignored'), (501, 'new too') ON CONFLICT (id) DO NOTHING");

        // The table gets a new relfilenode twice while this session keeps writing to it.
        await WhileWritingAsync($"VACUUM FULL {Table}");
        await WhileWritingAsync($"CLUSTER {Table} USING {Table}_pkey");

        await BigTransactionAsync();
        // After the big transaction: its TOASTed rows updated with and without their TOAST, some deleted.
        await ChangeAsync($"UPDATE {Table} SET c_int4 = -1 WHERE id BETWEEN 10001 AND 10040");
        await ChangeAsync($"UPDATE {Table} SET c_text = left(c_text, 5000) WHERE id BETWEEN 10041 AND 10050");
        await ChangeAsync($"DELETE FROM {Table} WHERE id BETWEEN 10051 AND 10060");
    }

    /// <summary>The table's special rows, copies of them by INSERT .. SELECT (ids + 100) and by COPY (ids + 200).</summary>
    private async Task FillAsync()
    {
        await ChangeAsync(EveryTypeTable.Data);
        await ChangeAsync($"INSERT INTO {Table} (id, {_columns}) SELECT id + 100, {_columns} FROM {Table} WHERE id < 100");
        var rows = new MemoryStream();
        await using (var export = await connection.BeginRawBinaryCopyAsync($"COPY (SELECT id + 200, {_columns} FROM {Table} WHERE id < 100) TO STDOUT (FORMAT binary)"))
            await export.CopyToAsync(rows);
        rows.Position = 0;
        await using (var import = await connection.BeginRawBinaryCopyAsync($"COPY {Table} FROM STDIN (FORMAT binary)"))
            await rows.CopyToAsync(import);
        Tally.Add(Table, await ScalarAsync<long>($"SELECT count(*) FROM {Table} WHERE id BETWEEN 201 AND 299"));
    }

    private async Task SavepointsAsync()
    {
        await using var transaction = await connection.BeginTransactionAsync();
        Tally.Begin();
        await ChangeAsync($"INSERT INTO {Table} (id, {_columns}) SELECT id + 300, {_columns} FROM {Table} WHERE id < 100");
        await transaction.SaveAsync("a");
        Tally.Save("a");
        await ChangeAsync($"UPDATE {Table} SET c_text = 'rolled back' WHERE id BETWEEN 300 AND 399");
        await ChangeAsync($"DELETE FROM {Table} WHERE id = 2");
        await transaction.SaveAsync("b");
        Tally.Save("b");
        await ChangeAsync($"INSERT INTO {Table} (id, {_columns}) SELECT id + 400, {_columns} FROM {Table} WHERE id < 100");
        await transaction.ReleaseAsync("b");
        Tally.Release("b");
        await transaction.RollbackAsync("a");
        Tally.RollbackTo("a");
        await transaction.SaveAsync("c");
        Tally.Save("c");
        await ChangeAsync($"UPDATE {Table} SET c_text = 'kept', c_jsonb = '{{\"kept\": true}}' WHERE id IN (302, 306)");
        await transaction.ReleaseAsync("c");
        Tally.Release("c");
        await ChangeAsync($"DELETE FROM {Table} WHERE id = 301");
        await transaction.CommitAsync();
        Tally.Commit();
    }

    private async Task AbortedAsync()
    {
        await using var transaction = await connection.BeginTransactionAsync();
        Tally.Begin();
        await ChangeAsync($"INSERT INTO {Table} (id, {_columns}) SELECT id + 600, {_columns} FROM {Table} WHERE id < 100");
        await ChangeAsync($"UPDATE {Table} SET c_text = 'aborted' WHERE id IN (6, 9)");
        await ChangeAsync($"DELETE FROM {Table} WHERE id IN (4, 104)");
        await transaction.RollbackAsync();
        Tally.Rollback();
    }

    private async Task TwoPhaseAsync(string gid, bool commit)
    {
        await ExecuteAsync("BEGIN");
        Tally.Begin();
        var offset = commit ? 700 : 800;
        await ChangeAsync($"INSERT INTO {Table} (id, {_columns}) SELECT id + {offset}, {_columns} FROM {Table} WHERE id < 12");
        await ChangeAsync($"UPDATE {Table} SET c_numeric = c_numeric + 1, c_text = c_text || '{gid}' WHERE id IN (9, 110)");
        await ChangeAsync($"DELETE FROM {Table} WHERE id = {(commit ? 111 : 211)}");
        await ExecuteAsync($"PREPARE TRANSACTION '{gid}'");
        // Another session writes while it is prepared.
        var meanwhile = await ExecuteOnAsync(maintenance, $"UPDATE {Table} SET c_int4 = coalesce(c_int4, 0) + 1 WHERE id = 5");
        await ExecuteAsync(commit ? $"COMMIT PREPARED '{gid}'" : $"ROLLBACK PREPARED '{gid}'");
        if (commit) Tally.Commit();
        else Tally.Rollback();
        Tally.Add(Table, meanwhile);
    }

    /// <summary>Runs <paramref name="statement"/> from the second session while this one keeps updating the table.</summary>
    private async Task WhileWritingAsync(string statement)
    {
        var maintenanceTask = ExecuteOnAsync(maintenance, statement);
        for (var i = 0; i < 10; i++)
        {
            await ChangeAsync($"UPDATE {Table} SET c_int4 = coalesce(c_int4, 0) + 1 WHERE id = {(i % 2 == 0 ? 5 : 6)}");
            await Task.Delay(20);
        }

        await maintenanceTask;
        await ChangeAsync($"UPDATE {Table} SET c_money = 1.5 WHERE id IN (2, 6, 202)");
    }

    /// <summary>One transaction writing well over a 16 MB segment of WAL: copies of the TOAST-heavy row 6 and of the special rows.</summary>
    private async Task BigTransactionAsync()
    {
        var before = await ScalarAsync<long>("SELECT pg_current_wal_insert_lsn() - '0/0'");
        await using var transaction = await connection.BeginTransactionAsync();
        Tally.Begin();
        await ChangeAsync($"INSERT INTO {Table} (id, {_columns}) SELECT 10000 + g, {_columns} FROM {Table}, generate_series(1, 100) g WHERE id = 6");
        await ChangeAsync($"INSERT INTO {Table} (id, {_columns}) SELECT 20000 + g * 100 + id, {_columns} FROM {Table}, generate_series(1, 300) g WHERE id BETWEEN 2 AND 5");
        await ChangeAsync($"UPDATE {Table} SET c_int2 = 7, c_text = coalesce(c_text, '') || 'big' WHERE id BETWEEN 20000 AND 50000 AND id % 3 = 0");
        await ChangeAsync($"DELETE FROM {Table} WHERE id BETWEEN 20000 AND 50000 AND id % 7 = 0");
        await transaction.CommitAsync();
        Tally.Commit();
        BigTransactionWalBytes = await ScalarAsync<long>("SELECT pg_current_wal_insert_lsn() - '0/0'") - before;
    }

    private async Task ChangeAsync(string sql) => Tally.Add(Table, await ExecuteAsync(sql));

    private Task<int> ExecuteAsync(string sql) => ExecuteOnAsync(connection, sql);

    private static async Task<int> ExecuteOnAsync(NpgsqlConnection on, string sql)
    {
        await using var command = new NpgsqlCommand(sql, on);
        return await command.ExecuteNonQueryAsync();
    }

    private async Task<T> ScalarAsync<T>(string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }
}
