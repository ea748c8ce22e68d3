using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Tuples;

namespace DataSync.Wal.Tests.Tuples;

public sealed class HeapTupleDeformerTests
{
    private static ColumnDescriptor Column(short attNum, string name, short length, char align, bool dropped = false, bool hasMissing = false, byte[]? missing = null) =>
        new(attNum, name, dropped ? 0u : 23u, -1, length, align, length is > 0 and <= 8, 'p', dropped, false, hasMissing, missing, '\0');

    private static TableDescriptor Table(params ColumnDescriptor[] columns) =>
        new("public", "t", 1, 1, 1663, 5, 0, 0, 'd', [1], columns);

    /// <summary>Builds an on-page tuple: 23-byte header with infomask2/infomask/hoff, bitmap, data at hoff.</summary>
    private static byte[] PageTuple(int natts, byte[]? bitmap, byte[] data)
    {
        var hoff = (23 + (bitmap?.Length ?? 0) + 7) & ~7;
        var tuple = new byte[hoff + data.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(tuple.AsSpan(18), (ushort)natts);
        BinaryPrimitives.WriteUInt16LittleEndian(tuple.AsSpan(20), (ushort)(bitmap is null ? 0x0002 : 0x0003));
        tuple[22] = (byte)hoff;
        bitmap?.CopyTo(tuple, 23);
        data.CopyTo(tuple, hoff);
        return tuple;
    }

    /// <summary>The same tuple as WAL carries it: infomask2, infomask, hoff, then bytes from 23 on.</summary>
    private static byte[] WalForm(byte[] page)
    {
        var wal = new byte[5 + page.Length - 23];
        page.AsSpan(18, 5).CopyTo(wal);
        page.AsSpan(23).CopyTo(wal.AsSpan(5));
        return wal;
    }

    [Fact]
    public void Aligns_fixed_columns_and_leaves_short_varlenas_unaligned()
    {
        // int2 @0, int8 aligned to 8, "char" 1 byte @16, short varlena "hi" @17 (unaligned), int4 aligned to 20.
        var table = Table(Column(1, "a", 2, 's'), Column(2, "b", 8, 'd'), Column(3, "c", 1, 'c'), Column(4, "v", -1, 'i'), Column(5, "d", 4, 'i'));
        var data = new byte[24];
        BinaryPrimitives.WriteInt16LittleEndian(data, 7);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), -2);
        data[16] = (byte)'x';
        data[17] = (3 << 1) | 1;
        data[18] = (byte)'h';
        data[19] = (byte)'i';
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(20), 99);
        var page = PageTuple(5, null, data);

        var fromPage = new DeformedColumn[5];
        HeapTupleDeformer.DeformPage(page, table, fromPage);
        Assert.Equal([24, 32, 40, 41, 44], fromPage.Select(c => c.Offset));
        Assert.Equal([2, 8, 1, 3, 4], fromPage.Select(c => c.Length));
        Assert.Equal(99, BinaryPrimitives.ReadInt32LittleEndian(fromPage[4].Slice(page)));

        var wal = WalForm(page);
        var fromWal = new DeformedColumn[5];
        HeapTupleDeformer.DeformWal(wal, table, fromWal);
        Assert.Equal(fromPage.Select(c => c.Offset - 18), fromWal.Select(c => c.Offset));
        Assert.Equal(-2L, BinaryPrimitives.ReadInt64LittleEndian(fromWal[1].Slice(wal)));
    }

    [Fact]
    public void Zero_padding_before_a_four_byte_varlena_is_skipped_to_its_alignment()
    {
        var table = Table(Column(1, "c", 1, 'c'), Column(2, "v", -1, 'i'));
        var data = new byte[4 + 4 + 200];
        data[0] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), 204u << 2);
        var page = PageTuple(2, null, data);
        var columns = new DeformedColumn[2];
        HeapTupleDeformer.DeformPage(page, table, columns);
        Assert.Equal(24 + 4, columns[1].Offset);
        Assert.Equal(204, columns[1].Length);
    }

    [Fact]
    public void Nulls_take_no_space_and_missing_columns_take_their_default()
    {
        var table = Table(Column(1, "a", 4, 'i'), Column(2, "n", 8, 'd'), Column(3, "b", 4, 'i'),
            Column(4, "added_with_default", 4, 'i', hasMissing: true, missing: [0, 0, 0, 42]),
            Column(5, "added_without", 4, 'i'));
        var data = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(data, 1);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(4), 3);
        var page = PageTuple(3, [0b101], data);

        var columns = new DeformedColumn[5];
        var header = HeapTupleDeformer.DeformPage(page, table, columns);
        Assert.Equal(3, header.Natts);
        Assert.Equal([ColumnValueKind.Present, ColumnValueKind.Null, ColumnValueKind.Present, ColumnValueKind.Missing, ColumnValueKind.Null],
            columns.Select(c => c.Kind));
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(columns[2].Slice(page)));
    }

    [Fact]
    public void Dropped_columns_are_walked_with_their_kept_layout()
    {
        var table = Table(Column(1, "a", 4, 'i'), Column(2, "........pg.dropped.2........", -1, 'i', dropped: true), Column(3, "b", 8, 'd'));
        var data = new byte[16];
        BinaryPrimitives.WriteInt32LittleEndian(data, 1);
        data[4] = (2 << 1) | 1;
        data[5] = (byte)'z';
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(8), 5);
        var page = PageTuple(3, null, data);
        var columns = new DeformedColumn[3];
        HeapTupleDeformer.DeformPage(page, table, columns);
        Assert.Equal(5L, BinaryPrimitives.ReadInt64LittleEndian(columns[2].Slice(page)));
    }

    [Fact]
    public void A_tuple_newer_than_its_descriptor_is_refused()
    {
        var table = Table(Column(1, "a", 4, 'i'));
        var page = PageTuple(2, null, new byte[8]);
        var error = Assert.Throws<TupleFormatException>(() => HeapTupleDeformer.DeformPage(page, table, new DeformedColumn[1]));
        Assert.Contains("public.t", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_truncated_tuple_names_the_column_that_overruns()
    {
        var table = Table(Column(1, "a", 4, 'i'), Column(2, "wide", 8, 'd'));
        var page = PageTuple(2, null, new byte[10]);
        var error = Assert.Throws<TupleFormatException>(() => HeapTupleDeformer.DeformPage(page, table, new DeformedColumn[2]));
        Assert.Contains("column wide", error.Message, StringComparison.Ordinal);

        var badVarlena = Table(Column(1, "v", -1, 'i'));
        var data = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(data, 400u << 2);
        error = Assert.Throws<TupleFormatException>(() => HeapTupleDeformer.DeformPage(PageTuple(1, null, data), badVarlena, new DeformedColumn[1]));
        Assert.Contains("column v", error.Message, StringComparison.Ordinal);
    }
}
