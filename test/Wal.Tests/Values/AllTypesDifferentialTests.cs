using System.Buffers.Binary;
using DataSync.TestRig;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tests.Catalog;
using DataSync.Wal.Toast;
using DataSync.Wal.Tuples;
using DataSync.Wal.Values;
using K4os.Compression.LZ4;
using Npgsql;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// The differential oracle: tuples of a table with every supported type are taken raw from a live
/// 18.1 server (pages via pageinspect, WAL via pg_walinspect), decoded by our code into COPY BINARY,
/// and compared with the server's own COPY BINARY output field by field, then loaded into a twin
/// table whose rows must hash identically to the source's.
/// </summary>
[Trait("Category", "Server")]
public sealed class AllTypesDifferentialTests(AllTypesServerFixture fixture) : IClassFixture<AllTypesServerFixture>
{
    private const string RowsHash = "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM {0} AS t";

    [Fact]
    public async Task Page_tuples_decode_to_the_servers_copy_bytes_and_reload_identically()
    {
        await using var connection = await fixture.OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        var toast = new ToastChunkStore();
        foreach (var tuple in await ServerTupleSource.PageTuplesAsync(connection, $"pg_toast.pg_toast_{table.RelationOid}"))
            toast.AddPageTuple(table.ToastRelationOid, tuple);
        Assert.True(toast.ValueCount >= 3, "the data set should have TOASTed several values");

        var decoder = new RowDecoder(table, converter);
        var rows = (await ServerTupleSource.PageTuplesAsync(connection, AllTypesServerFixture.Table))
            .Select(t => decoder.DecodePage(t, toast)).ToList();

        await AssertMatchesServerAsync(connection, table, rows, "all_types_from_pages");
    }

    [Fact]
    public async Task Wal_tuples_decode_to_the_servers_copy_bytes_and_reload_identically()
    {
        await using var connection = await fixture.OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        var blocks = await ServerTupleSource.WalBlocksAsync(connection, fixture.DataStartLsn, fixture.DataEndLsn,
            table.RelFileNode, table.ToastRelFileNode);

        var toast = new ToastChunkStore();
        var decoder = new RowDecoder(table, converter);
        var rows = new List<DecodedRow>();
        var direct = new SendBuffer();
        CopyBinaryFormat.WriteHeader(direct);
        foreach (var block in blocks)
        {
            Assert.StartsWith("INSERT", block.RecordType);
            if (block.RelFileNode == table.ToastRelFileNode)
            {
                toast.AddWalTuple(table.ToastRelationOid, block.Data);
                continue;
            }

            rows.Add(decoder.DecodeWal(block.Data, toast));
            Assert.True(decoder.TryWriteCopyRowWal(block.Data, toast, direct));
        }

        // Written straight into a stream, the rows come out as the same bytes, in WAL order.
        CopyBinaryFormat.WriteTrailer(direct);
        Assert.True(CopyStream(rows).Span.SequenceEqual(direct.WrittenSpan));

        await AssertMatchesServerAsync(connection, table, rows, "all_types_from_wal");

        // The acceptance, literally: a separate local cluster, the same DDL, our COPY stream.
        await using var local = await LocalCluster.StartAsync("wal-values-local");
        await using var localConnection = await local.Server.OpenAsync(LocalCluster.Database);
        await ServerTupleSource.ExecuteAsync(localConnection, AllTypesServerFixture.Ddl);
        await ServerTupleSource.CopyInAsync(localConnection, AllTypesServerFixture.Table, CopyStream(rows));
        var hash = string.Format(System.Globalization.CultureInfo.InvariantCulture, RowsHash, AllTypesServerFixture.Table);
        Assert.Equal(await ServerTupleSource.ScalarTextAsync(connection, hash), await ServerTupleSource.ScalarTextAsync(localConnection, hash));
        Assert.Equal("11", await ServerTupleSource.ScalarTextAsync(localConnection, "SELECT count(*) FROM all_types"));
    }

    /// <summary>COPY FROM writes MULTI_INSERT records: several tuples per record, each behind a 7-byte
    /// header (length, infomask2, infomask, hoff) on an even offset.</summary>
    [Fact]
    public async Task Multi_insert_tuples_from_copy_decode_to_the_servers_bytes()
    {
        await using var connection = await fixture.OpenAsync();
        await ServerTupleSource.ExecuteAsync(connection, "DROP TABLE IF EXISTS all_types_bulk; CREATE TABLE all_types_bulk (LIKE all_types INCLUDING ALL)");
        using var serverCopy = new MemoryStream();
        await using (var read = await connection.BeginRawBinaryCopyAsync("COPY all_types TO STDOUT (FORMAT binary)"))
        {
            await read.CopyToAsync(serverCopy);
        }

        var from = await ServerTupleSource.CurrentLsnAsync(connection);
        await ServerTupleSource.CopyInAsync(connection, "all_types_bulk", serverCopy.ToArray());
        var to = await ServerTupleSource.CurrentLsnAsync(connection);

        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "all_types_bulk");
        var table = Assert.Single(snapshot.Tables);
        var decoder = new RowDecoder(table, new ValueConverter(snapshot.CreateTypeRegistry()));
        var toast = new ToastChunkStore();
        var rows = new List<DecodedRow>();
        foreach (var block in await ServerTupleSource.WalBlocksAsync(connection, from, to, table.RelFileNode, table.ToastRelFileNode))
        {
            if (block.RelFileNode == table.ToastRelFileNode)
            {
                toast.AddWalTuple(table.ToastRelationOid, block.Data);
                continue;
            }

            Assert.StartsWith("MULTI_INSERT", block.RecordType);
            var data = block.Data;
            for (var position = 0; position < data.Length;)
            {
                position = (position + 1) & ~1;
                var length = BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(position));
                var header = new HeapTupleHeader(BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(position + 2)),
                    BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(position + 4)), data[position + 6]);
                rows.Add(decoder.Decode(header, data.AsSpan(position + 7, length), toast));
                position += 7 + length;
            }
        }

        await AssertMatchesServerAsync(connection, table, rows, "all_types_from_multi_insert");
    }

    /// <summary>
    /// Our 18.1 test build only writes pglz, so lz4 is proven on real values: every external value of
    /// the table is reassembled, recompressed as one raw LZ4 block (as PostgreSQL's lz4 TOAST
    /// compression stores it), re-chunked under a new value id, and the tuple's pointer rewritten to
    /// say lz4; the decoded row must still equal the server's COPY output byte for byte.
    /// </summary>
    [Fact]
    public async Task Lz4_recompressed_external_values_decode_to_the_servers_bytes()
    {
        await using var connection = await fixture.OpenAsync();
        var (table, converter) = await CatalogAsync(connection);
        var pglz = new ToastChunkStore();
        foreach (var tuple in await ServerTupleSource.PageTuplesAsync(connection, $"pg_toast.pg_toast_{table.RelationOid}"))
            pglz.AddPageTuple(table.ToastRelationOid, tuple);

        // New value ids keep the lz4 copies apart from the pglz originals in the same store.
        var chunks = pglz;
        var decoder = new RowDecoder(table, converter);
        var rewritten = 0;
        var rows = new List<DecodedRow>();
        var columns = new DeformedColumn[table.Columns.Count];
        foreach (var original in await ServerTupleSource.PageTuplesAsync(connection, AllTypesServerFixture.Table))
        {
            var tuple = original.ToArray();
            HeapTupleDeformer.DeformPage(tuple, table, columns);
            foreach (var column in columns)
            {
                if (column.Kind != ColumnValueKind.Present || column.Length != Varlena.ExternalPointerSize || tuple[column.Offset] != 0x01) continue;
                var pointer = ToastPointer.Read(column.Slice(tuple));
                Assert.True(pglz.TryReassemble(pointer, out var payload));
                var stream = new byte[LZ4Codec.MaximumOutputSize(payload.Length)];
                var streamLength = LZ4Codec.Encode(payload, stream, LZ4Level.L00_FAST);
                if (streamLength + 4 >= payload.Length) continue; // PostgreSQL would store it uncompressed

                var stored = new byte[4 + streamLength];
                BinaryPrimitives.WriteUInt32LittleEndian(stored, (uint)payload.Length | (uint)ToastCompressionMethod.Lz4 << 30);
                stream.AsSpan(0, streamLength).CopyTo(stored.AsSpan(4));
                var valueId = pointer.ValueId + 1_000_000;
                for (int offset = 0, sequence = 0; offset < stored.Length; offset += 1996, sequence++)
                    chunks.AddChunk(pointer.ToastRelationOid, valueId, sequence, stored.AsSpan(offset, Math.Min(1996, stored.Length - offset)));
                var body = tuple.AsSpan(column.Offset + 2);
                BinaryPrimitives.WriteUInt32LittleEndian(body[4..], (uint)stored.Length | (uint)ToastCompressionMethod.Lz4 << 30);
                BinaryPrimitives.WriteUInt32LittleEndian(body[8..], valueId);
                Assert.Equal(ToastCompressionMethod.Lz4, ToastPointer.Read(column.Slice(tuple)).CompressionMethod);
                rewritten++;
            }

            rows.Add(decoder.DecodePage(tuple, chunks));
        }

        Assert.True(rewritten >= 3, $"only {rewritten} external values could be recompressed");
        await AssertMatchesServerAsync(connection, table, rows, "all_types_from_lz4");
    }

    /// <summary>Inline lz4: a real compressible value from the server, compressed into an inline
    /// varlena (4-byte header with the compressed flag, va_tcinfo with the lz4 method bits).</summary>
    [Fact]
    public async Task Lz4_inline_compressed_real_value_restores_exactly()
    {
        await using var connection = await fixture.OpenAsync();
        var original = (await ServerTupleSource.ServerCopyAsync(connection, "SELECT c_text FROM all_types WHERE id = 8"))[0][0]!;
        var stream = new byte[LZ4Codec.MaximumOutputSize(original.Length)];
        var streamLength = LZ4Codec.Encode(original, stream, LZ4Level.L00_FAST);
        var varlena = new byte[8 + streamLength];
        BinaryPrimitives.WriteUInt32LittleEndian(varlena, (uint)varlena.Length << 2 | 0x02);
        BinaryPrimitives.WriteUInt32LittleEndian(varlena.AsSpan(4), (uint)original.Length | 1u << 30);
        stream.AsSpan(0, streamLength).CopyTo(varlena.AsSpan(8));

        Assert.Equal(VarlenaForm.CompressedInline, Varlena.FormOf(varlena));
        Assert.True(Detoaster.TryGetPayload(varlena, null, out var payload));
        Assert.Equal(original, payload.ToArray());
    }

    private async Task<(TableDescriptor Table, ValueConverter Converter)> CatalogAsync(NpgsqlConnection connection)
    {
        var snapshot = await NpgsqlCatalogReader.ReadAsync(connection, "public." + AllTypesServerFixture.Table);
        var table = Assert.Single(snapshot.Tables);
        Assert.NotEqual(0u, table.ToastRelFileNode);
        return (table, new ValueConverter(snapshot.CreateTypeRegistry()));
    }

    private static async Task AssertMatchesServerAsync(NpgsqlConnection connection, TableDescriptor table, List<DecodedRow> rows, string twin)
    {
        Assert.All(rows, r => Assert.False(r.HasUnchangedToast));
        rows.Sort((a, b) => IdOf(a).CompareTo(IdOf(b)));
        var server = await ServerTupleSource.ServerCopyAsync(connection, $"SELECT * FROM {AllTypesServerFixture.Table} ORDER BY id");
        Assert.Equal(server.Count, rows.Count);

        var mismatches = new List<string>();
        for (var r = 0; r < rows.Count; r++)
        {
            Assert.Equal(server[r].Length, rows[r].FieldCount);
            for (var f = 0; f < rows[r].FieldCount; f++)
            {
                var expected = server[r][f];
                var actual = rows[r].State(f) == FieldState.Null ? null : rows[r].Field(f).ToArray();
                if (expected is null != actual is null || (expected is not null && !expected.AsSpan().SequenceEqual(actual)))
                {
                    mismatches.Add($"id {IdOf(rows[r])}, {table.Columns[rows[r].Columns[f].AttNum - 1].Name}: server {Hex(expected)} ours {Hex(actual)}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));

        await ServerTupleSource.ExecuteAsync(connection, $"DROP TABLE IF EXISTS {twin}; CREATE TABLE {twin} (LIKE {AllTypesServerFixture.Table})");
        await ServerTupleSource.CopyInAsync(connection, twin, CopyStream(rows));

        var source = await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, RowsHash, AllTypesServerFixture.Table));
        var copied = await ServerTupleSource.ScalarTextAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, RowsHash, twin));
        Assert.Equal(source, copied);
    }

    private static ReadOnlyMemory<byte> CopyStream(IEnumerable<DecodedRow> rows)
    {
        var stream = new SendBuffer();
        CopyBinaryFormat.WriteHeader(stream);
        foreach (var row in rows) CopyBinaryFormat.WriteRow(row, stream);
        CopyBinaryFormat.WriteTrailer(stream);
        return stream.WrittenMemory;
    }

    private static int IdOf(DecodedRow row) => BinaryPrimitives.ReadInt32BigEndian(row.Field(row.IndexOf(1)));

    private static string Hex(byte[]? bytes) =>
        bytes is null ? "NULL" : bytes.Length > 64 ? $"{Convert.ToHexString(bytes[..64])}... ({bytes.Length} bytes)" : Convert.ToHexString(bytes);
}
