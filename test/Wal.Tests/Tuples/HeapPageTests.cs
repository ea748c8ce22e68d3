using System.Buffers.Binary;
using DataSync.Wal.Tuples;

namespace DataSync.Wal.Tests.Tuples;

/// <summary>The heap page walk on pages built by hand: what counts as a tuple, and what a torn or foreign page gives.</summary>
public sealed class HeapPageTests
{
    private const int PageSize = 8192;

    [Fact]
    public void Normal_pointers_give_their_tuples_and_the_others_none()
    {
        var page = NewPage(special: PageSize);
        var first = AddTuple(page, 1, xmax: 0, infomask: 0, data: [1, 0, 0, 0, 0xAA]);
        AddPointer(page, 2, offset: 0, length: 0, flags: 0);       // LP_UNUSED
        AddPointer(page, 3, offset: first, length: 40, flags: 3);  // LP_DEAD
        AddPointer(page, 4, offset: PageSize - 8, length: 40, flags: 1); // leaves the page
        AddTuple(page, 5, xmax: 900, infomask: 0x0080, data: [2, 0, 0, 0]); // deleted by a row lock only
        AddTuple(page, 6, xmax: 901, infomask: 0, data: [3, 0, 0, 0]);      // deleted

        var heap = new HeapPage(page);
        Assert.True(heap.HasNoSpecialSpace);
        Assert.Equal(6, heap.ItemCount);
        Assert.Equal([1, 0, 0, 0, 0xAA], HeapPage.Data(heap.Tuple(1)).ToArray());
        Assert.True(heap.Tuple(2).IsEmpty);
        Assert.True(heap.Tuple(3).IsEmpty);
        Assert.True(heap.Tuple(4).IsEmpty);
        Assert.True(heap.Tuple(0).IsEmpty);
        Assert.True(heap.Tuple(7).IsEmpty);
        Assert.True(HeapPage.LooksCurrent(heap.Tuple(1)));
        Assert.True(HeapPage.LooksCurrent(heap.Tuple(5)));
        Assert.False(HeapPage.LooksCurrent(heap.Tuple(6)));
    }

    [Fact]
    public void A_new_torn_or_index_page_is_told_apart()
    {
        Assert.Equal(0, new HeapPage(new byte[PageSize]).ItemCount);
        Assert.Equal(0, new HeapPage(new byte[10]).ItemCount);
        var torn = NewPage(special: PageSize);
        BinaryPrimitives.WriteUInt16LittleEndian(torn.AsSpan(12), PageSize + 4);
        Assert.Equal(0, new HeapPage(torn).ItemCount);
        // An index page keeps special space at its end.
        Assert.False(new HeapPage(NewPage(special: PageSize - 16)).HasNoSpecialSpace);
    }

    [Fact]
    public void Data_is_empty_when_t_hoff_does_not_fit_the_tuple()
    {
        var tuple = new byte[30];
        tuple[22] = 24;
        Assert.Equal(6, HeapPage.Data(tuple).Length);
        tuple[22] = 31;
        Assert.True(HeapPage.Data(tuple).IsEmpty);
        tuple[22] = 8;
        Assert.True(HeapPage.Data(tuple).IsEmpty);
        Assert.True(HeapPage.Data(new byte[20]).IsEmpty);
    }

    private static byte[] NewPage(int special)
    {
        var page = new byte[PageSize];
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(12), HeapPage.HeaderSize);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(14), PageSize);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(16), (ushort)special);
        return page;
    }

    /// <summary>Puts a tuple (t_hoff 24) below the lowest one so far and points line pointer <paramref name="offnum"/> at it.</summary>
    private static int AddTuple(byte[] page, int offnum, uint xmax, ushort infomask, byte[] data)
    {
        var upper = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(14));
        var length = 24 + data.Length;
        var offset = (upper - length) & ~7;
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(offset + 4), xmax);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(offset + 20), infomask);
        page[offset + 22] = 24;
        data.CopyTo(page, offset + 24);
        BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(14), (ushort)offset);
        AddPointer(page, offnum, offset, length, flags: 1);
        return offset;
    }

    private static void AddPointer(byte[] page, int offnum, int offset, int length, uint flags)
    {
        var at = HeapPage.HeaderSize + 4 * (offnum - 1);
        BinaryPrimitives.WriteUInt32LittleEndian(page.AsSpan(at), (uint)offset | (flags << 15) | ((uint)length << 17));
        var lower = BinaryPrimitives.ReadUInt16LittleEndian(page.AsSpan(12));
        if (at + 4 > lower) BinaryPrimitives.WriteUInt16LittleEndian(page.AsSpan(12), (ushort)(at + 4));
    }
}
