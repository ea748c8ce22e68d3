using System.Buffers.Binary;
using System.Text;
using DataSync.Core.Apply;
using DataSync.Wal;
using DataSync.Wal.Catalog;
using DataSync.Wal.Changes;
using DataSync.Wal.Values;

namespace DataSync.Core.Tests.Apply;

/// <summary>
/// Netting a round of one table's changes, without a database: what a round leaves for each row decides which
/// SQL the applier runs, so each shape of change sequence is pinned here by its net effect.
/// </summary>
public sealed class ChangeRoundTests
{
    private static readonly ColumnDescriptor Id = new(1, "id", 23, -1, 4, 'i', true, 'p', false, true, false, null, '\0');
    private static readonly ColumnDescriptor Note = new(2, "note", 25, -1, -1, 'i', false, 'x', false, false, false, null, '\0');
    private static readonly TableDescriptor Table = new("public", "t", 16384, 16384, 1663, 5, 0, 0, 'd', [1], [Id, Note]);
    private static readonly int[] KeyFields = [0];

    [Fact]
    public void An_insert_then_updates_is_one_insert_of_the_last_image()
    {
        var round = new ChangeRound(100);
        round.Add(Insert(1, "a", 10), KeyFields);
        round.Add(Update(1, "b", 11), KeyFields);
        round.Add(Update(1, "c", 12), KeyFields);

        var net = Assert.Single(round.Order);
        Assert.True(net.IsInsert);
        Assert.Null(net.OriginKey);
        Assert.Equal("c", NoteOf(net.Row!));
        Assert.Equal(new Lsn(12), net.Lsn);
    }

    [Fact]
    public void Updates_then_a_delete_of_a_row_the_table_had_is_one_delete_at_its_original_key()
    {
        var round = new ChangeRound(100);
        round.Add(Update(7, "x", 10), KeyFields);
        round.Add(Delete(7, 11), KeyFields);

        var net = Assert.Single(round.Order);
        Assert.True(net.IsStaged);
        Assert.Null(net.Row);
        Assert.Equal(KeyBytes(7), net.OriginKey);
    }

    [Fact]
    public void An_insert_then_a_delete_leaves_nothing_to_insert()
    {
        var round = new ChangeRound(100);
        round.Add(Insert(3, "a", 10), KeyFields);
        round.Add(Delete(3, 11), KeyFields);

        var net = Assert.Single(round.Order);
        Assert.False(net.IsInsert);
        Assert.False(net.IsStaged);
    }

    [Fact]
    public void A_delete_then_an_insert_at_the_same_key_is_an_update_of_that_row()
    {
        var round = new ChangeRound(100);
        round.Add(Delete(5, 10), KeyFields);
        round.Add(Insert(5, "again", 11), KeyFields);

        var net = Assert.Single(round.Order);
        Assert.True(net.IsStaged);
        Assert.Equal(KeyBytes(5), net.OriginKey);
        Assert.Equal("again", NoteOf(net.Row!));
        Assert.False(net.KeyMoved);
    }

    [Fact]
    public void A_key_change_moves_the_row_later_changes_follow_it_and_its_old_key_is_free_again()
    {
        var round = new ChangeRound(100);
        round.Add(Update(1, "moved", 10, oldId: 2), KeyFields);   // the row at key 2 now has key 1...
        round.Add(Update(1, "then changed", 11), KeyFields);     // ...and is found there
        round.Add(Insert(2, "new row at the freed key", 12), KeyFields);

        Assert.Equal(2, round.Order.Count);
        var moved = round.Order[0];
        Assert.True(moved.KeyMoved);
        Assert.Equal(KeyBytes(2), moved.OriginKey);
        Assert.Equal("then changed", NoteOf(moved.Row!));
        Assert.Equal(1, IdOf(moved.Row!));
        var inserted = round.Order[1];
        Assert.True(inserted.IsInsert);
        Assert.Equal("new row at the freed key", NoteOf(inserted.Row!));
    }

    [Fact]
    public void An_update_that_kept_a_toasted_value_takes_it_from_the_rounds_earlier_image()
    {
        var round = new ChangeRound(100);
        round.Add(Insert(9, "long value", 10), KeyFields);
        round.Add(Change(ChangeKind.Update, 11, null, Row(9, null, unchangedToast: true)), KeyFields);

        var net = Assert.Single(round.Order);
        Assert.False(net.Row!.HasUnchangedToast);
        Assert.Equal("long value", NoteOf(net.Row));

        // A row the round had not seen keeps the marker: the local value stays.
        round.Add(Change(ChangeKind.Update, 12, null, Row(4, null, unchangedToast: true)), KeyFields);
        Assert.True(round.Order[1].Row!.HasUnchangedToast);
    }

    [Fact]
    public void Rows_keep_the_order_they_were_first_touched_in_and_clear_empties_the_round()
    {
        var round = new ChangeRound(100);
        foreach (var id in new[] { 3, 1, 2 }) round.Add(Insert(id, "v", (ulong)(10 + id)), KeyFields);
        round.Add(Update(3, "w", 20), KeyFields);

        Assert.Equal([3, 1, 2], round.Order.Select(n => IdOf(n.Row!)));
        Assert.True(round.Bytes > 0);
        round.Clear();
        Assert.Empty(round.Order);
        Assert.Equal(0, round.Bytes);
        round.Add(Delete(3, 30), KeyFields);
        Assert.True(Assert.Single(round.Order).IsStaged); // nothing of the cleared round is remembered
    }

    [Fact]
    public void A_staging_row_carries_operation_lsn_mask_origin_key_and_the_final_image_as_copy_fields()
    {
        var round = new ChangeRound(100);
        round.Add(Update(6, "six", 0x1234), KeyFields);
        using var buffer = new MemoryStream();
        StagingRow.Write(buffer, StagingRow.Update, round.Order[0], mask: 2, keyCount: 1, columnCount: 2);

        var fields = ReadCopyTuple(buffer.ToArray());
        Assert.Equal(StagingRow.MetaColumns + 1 + 2, fields.Count);
        Assert.Equal(StagingRow.Update, BinaryPrimitives.ReadInt16BigEndian(fields[0]));
        Assert.Equal(0x1234L, BinaryPrimitives.ReadInt64BigEndian(fields[1]));
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(fields[2]));
        Assert.Equal(6, BinaryPrimitives.ReadInt32BigEndian(fields[3]!));
        Assert.Equal(6, BinaryPrimitives.ReadInt32BigEndian(fields[4]!));
        Assert.Equal("six", Encoding.UTF8.GetString(fields[5]!));

        // A delete stages its key with every column of the image NULL; a new row has no origin key.
        buffer.SetLength(0);
        round.Add(Delete(6, 0x2000), KeyFields);
        StagingRow.Write(buffer, StagingRow.Delete, round.Order[0], 0, 1, 2);
        fields = ReadCopyTuple(buffer.ToArray());
        Assert.Equal(6, BinaryPrimitives.ReadInt32BigEndian(fields[3]!));
        Assert.Null(fields[4]);
        Assert.Null(fields[5]);
    }

    private static RowChange Insert(int id, string note, ulong lsn) => Change(ChangeKind.Insert, lsn, null, Row(id, note));

    private static RowChange Update(int id, string note, ulong lsn, int? oldId = null) =>
        Change(ChangeKind.Update, lsn, oldId is { } old ? Row(old, null) : null, Row(id, note));

    private static RowChange Delete(int id, ulong lsn) => Change(ChangeKind.Delete, lsn, Row(id, null), null);

    private static RowChange Change(ChangeKind kind, ulong lsn, DecodedRow? oldKey, DecodedRow? newRow) => new(kind, Table, new Lsn(lsn), oldKey, newRow);

    /// <summary>A row image in COPY tuple form: id, then note (NULL, a value, or unchanged TOAST).</summary>
    private static DecodedRow Row(int id, string? note, bool unchangedToast = false)
    {
        var text = note is null ? [] : Encoding.UTF8.GetBytes(note);
        var tuple = new byte[2 + 8 + 4 + text.Length];
        BinaryPrimitives.WriteInt16BigEndian(tuple, 2);
        BinaryPrimitives.WriteInt32BigEndian(tuple.AsSpan(2), 4);
        BinaryPrimitives.WriteInt32BigEndian(tuple.AsSpan(6), id);
        BinaryPrimitives.WriteInt32BigEndian(tuple.AsSpan(10), unchangedToast ? RowDecoder.UnchangedToastLength : note is null ? -1 : text.Length);
        text.CopyTo(tuple.AsSpan(14));
        return new DecodedRow(Table, [Id, Note], tuple[..(14 + text.Length)]);
    }

    private static byte[] KeyBytes(int id)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(bytes, 4);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), id);
        return bytes;
    }

    private static int IdOf(DecodedRow row) => BinaryPrimitives.ReadInt32BigEndian(row.Field(0));

    private static string NoteOf(DecodedRow row) => Encoding.UTF8.GetString(row.Field(1));

    private static List<byte[]?> ReadCopyTuple(byte[] tuple)
    {
        var count = BinaryPrimitives.ReadInt16BigEndian(tuple);
        var fields = new List<byte[]?>();
        var position = 2;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(tuple.AsSpan(position));
            position += 4;
            fields.Add(length < 0 ? null : tuple[position..(position + length)]);
            if (length > 0) position += length;
        }

        Assert.Equal(tuple.Length, position);
        return fields;
    }
}
