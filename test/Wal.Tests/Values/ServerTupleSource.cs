using Npgsql;

namespace DataSync.Wal.Tests.Values;

/// <summary>Reads raw tuples from a live server: on-page tuples with pageinspect, WAL tuples with pg_walinspect.</summary>
internal static class ServerTupleSource
{
    /// <summary>Every live, never-updated tuple of <paramref name="relation"/> as whole on-page bytes.</summary>
    public static async Task<List<byte[]>> PageTuplesAsync(NpgsqlConnection connection, string relation)
    {
        const string sql = """
            SELECT substr(p.page, i.lp_off + 1, i.lp_len)
            FROM generate_series(0, (pg_relation_size($1::regclass) / 8192)::int - 1) AS b(blkno)
            CROSS JOIN LATERAL (SELECT get_raw_page($1, b.blkno) AS page) AS p
            CROSS JOIN LATERAL heap_page_items(p.page) AS i
            WHERE i.lp_flags = 1 AND i.t_xmax = 0
            ORDER BY b.blkno, i.lp
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue(relation);
        var tuples = new List<byte[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) tuples.Add(reader.GetFieldValue<byte[]>(0));
        return tuples;
    }

    /// <summary>Block 0 data of heap records touching <paramref name="relFileNode"/> between two LSNs, in WAL order.</summary>
    public static async Task<List<WalBlock>> WalBlocksAsync(NpgsqlConnection connection, string fromLsn, string toLsn, params uint[] relFileNodes)
    {
        // The test clusters commit asynchronously; pg_walinspect only reads WAL that is flushed.
        await using (var wait = new NpgsqlCommand(
            "DO $$ BEGIN FOR i IN 1..200 LOOP EXIT WHEN pg_current_wal_flush_lsn() >= '" + toLsn + "'::pg_lsn; PERFORM pg_sleep(0.05); END LOOP; END $$",
            connection))
        {
            await wait.ExecuteNonQueryAsync();
        }

        const string sql = """
            SELECT relfilenode, record_type, block_data
            FROM pg_get_wal_block_info($1::pg_lsn, $2::pg_lsn)
            WHERE relfilenode = ANY($3::oid[]) AND resource_manager IN ('Heap', 'Heap2') AND block_id = 0 AND relforknumber = 0
            ORDER BY start_lsn
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue(fromLsn);
        command.Parameters.AddWithValue(toLsn);
        command.Parameters.AddWithValue(relFileNodes.Select(r => (long)r).ToArray());
        var blocks = new List<WalBlock>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            blocks.Add(new WalBlock(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.IsDBNull(2) ? [] : reader.GetFieldValue<byte[]>(2)));
        return blocks;
    }

    /// <summary>
    /// Main data of the heap records touching <paramref name="relFileNodes"/> between two LSNs, read
    /// straight from the server's pg_wal file (pg_walinspect does not expose main data): the record's
    /// bytes with page headers removed, main data being its last main_data_length bytes.
    /// </summary>
    public static async Task<List<WalMainData>> WalMainDataAsync(NpgsqlConnection connection, string fromLsn, string toLsn, params uint[] relFileNodes)
    {
        await WalBlocksAsync(connection, fromLsn, toLsn, relFileNodes); // waits for the flush
        const string sql = """
            SELECT relfilenode, record_type, record_length, main_data_length,
                   ((start_lsn - '0/0'::pg_lsn) % (16 * 1024 * 1024))::int8 AS file_offset,
                   pg_read_binary_file('pg_wal/' || pg_walfile_name(start_lsn),
                       ((start_lsn - '0/0'::pg_lsn) % (16 * 1024 * 1024))::int8, record_length + 2 * 8192, true)
            FROM pg_get_wal_block_info($1::pg_lsn, $2::pg_lsn)
            WHERE relfilenode = ANY($3::oid[]) AND resource_manager = 'Heap' AND block_id = 0
              AND record_type IN ('DELETE', 'UPDATE', 'HOT_UPDATE')
            ORDER BY start_lsn
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue(fromLsn);
        command.Parameters.AddWithValue(toLsn);
        command.Parameters.AddWithValue(relFileNodes.Select(r => (long)r).ToArray());
        var records = new List<WalMainData>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var recordLength = reader.GetInt32(2);
            var mainLength = reader.GetInt32(3);
            var offset = reader.GetInt64(4);
            var raw = reader.GetFieldValue<byte[]>(5);
            var record = new List<byte>(recordLength);
            for (var i = 0; record.Count < recordLength; i++)
            {
                var position = offset + i;
                if (position % 8192 == 0)
                {
                    Assert.NotEqual(0, position % (16 * 1024 * 1024)); // records here never cross a segment
                    i += 23; // skip the 24-byte short page header
                    continue;
                }

                record.Add(raw[i]);
            }

            records.Add(new WalMainData(reader.GetFieldValue<uint>(0), reader.GetString(1), record.Skip(recordLength - mainLength).ToArray()));
        }

        return records;
    }

    public static async Task<string> CurrentLsnAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand("SELECT pg_current_wal_insert_lsn()::text", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>The server's own COPY BINARY output of <paramref name="query"/>: per row, per field, the bytes (null for NULL).</summary>
    public static async Task<List<byte[]?[]>> ServerCopyAsync(NpgsqlConnection connection, string query)
    {
        await using var stream = await connection.BeginRawBinaryCopyAsync($"COPY ({query}) TO STDOUT (FORMAT binary)");
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return CopyBinaryParser.Parse(buffer.ToArray());
    }

    /// <summary>Loads a COPY BINARY stream into <paramref name="table"/>.</summary>
    public static async Task CopyInAsync(NpgsqlConnection connection, string table, ReadOnlyMemory<byte> copyData)
    {
        await using (var stream = await connection.BeginRawBinaryCopyAsync($"COPY {table} FROM STDIN (FORMAT binary)"))
        {
            await stream.WriteAsync(copyData);
        }
    }

    public static async Task<string> ScalarTextAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToString(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture) ?? "";
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

internal sealed record WalBlock(uint RelFileNode, string RecordType, byte[] Data);

internal sealed record WalMainData(uint RelFileNode, string RecordType, byte[] MainData);
