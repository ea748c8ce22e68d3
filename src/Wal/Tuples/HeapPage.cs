using System.Buffers.Binary;

namespace DataSync.Wal.Tuples;

/// <summary>
/// A heap page read in place, as src/include/storage/bufpage.h and itemid.h lay it out: a 24-byte header
/// (pd_lower at byte 12, pd_special at 16), then 4-byte line pointers up to pd_lower (offset 15 bits, flags
/// 2 bits, length 15 bits), the tuples towards the end. Every pointer is checked against the page, so a torn
/// or foreign page gives no tuples rather than an error: callers read pages logged whole in WAL and files
/// copied while a server ran, where that is to be expected.
/// </summary>
/// <remarks>Walk it by line pointer number: <c>for (var offnum = 1; offnum &lt;= page.ItemCount; offnum++)</c>.</remarks>
public readonly ref struct HeapPage
{
    public const int HeaderSize = 24;
    private const int LinePointerSize = 4;
    /// <summary>LP_NORMAL: the line pointer points at a tuple (the others are unused, redirects or dead).</summary>
    private const uint NormalPointer = 1;
    private const ushort XmaxInvalid = 0x0800;  // HEAP_XMAX_INVALID
    private const ushort XmaxLockOnly = 0x0080; // HEAP_XMAX_LOCK_ONLY

    private readonly ReadOnlySpan<byte> _page;

    public HeapPage(ReadOnlySpan<byte> page) => _page = page;

    /// <summary>Line pointers on the page; 0 for a page shorter than its header, a new page, or one whose pd_lower is past its end.</summary>
    public int ItemCount
    {
        get
        {
            if (_page.Length < HeaderSize) return 0;
            int lower = BinaryPrimitives.ReadUInt16LittleEndian(_page[12..]);
            return lower <= HeaderSize || lower > _page.Length ? 0 : (lower - HeaderSize) / LinePointerSize;
        }
    }

    /// <summary>Whether pd_special is the page's end, as on a heap page (index pages keep special space there).</summary>
    public bool HasNoSpecialSpace => _page.Length >= HeaderSize && BinaryPrimitives.ReadUInt16LittleEndian(_page[16..]) == _page.Length;

    /// <summary>
    /// The tuple at line pointer <paramref name="offnum"/> (1-based, as a ctid counts): empty unless the pointer is
    /// LP_NORMAL and the tuple holds at least the fixed tuple header and lies within the page.
    /// </summary>
    public ReadOnlySpan<byte> Tuple(int offnum)
    {
        if (offnum < 1 || offnum > ItemCount) return default;
        var pointer = BinaryPrimitives.ReadUInt32LittleEndian(_page[(HeaderSize + LinePointerSize * (offnum - 1))..]);
        var offset = (int)(pointer & 0x7FFF);
        var length = (int)(pointer >> 17);
        if (((pointer >> 15) & 3) != NormalPointer || length < HeapTupleHeader.PageHeaderSize || offset + length > _page.Length) return default;
        return _page.Slice(offset, length);
    }

    /// <summary>An on-page tuple's column data, from its t_hoff on; empty when t_hoff does not fit the tuple.</summary>
    public static ReadOnlySpan<byte> Data(ReadOnlySpan<byte> tuple)
    {
        if (tuple.Length < HeapTupleHeader.PageHeaderSize) return default;
        var hoff = tuple[22];
        return hoff >= HeapTupleHeader.PageHeaderSize && hoff <= tuple.Length ? tuple[hoff..] : default;
    }

    /// <summary>
    /// Whether no deleting or updating transaction is recorded on an on-page tuple version (t_xmax unset, marked
    /// invalid, or only a row lock). Not visibility: whether that transaction committed is not known here.
    /// </summary>
    public static bool LooksCurrent(ReadOnlySpan<byte> tuple)
    {
        if (tuple.Length < HeapTupleHeader.PageHeaderSize) return false;
        var xmax = BinaryPrimitives.ReadUInt32LittleEndian(tuple[4..]);
        var infomask = BinaryPrimitives.ReadUInt16LittleEndian(tuple[20..]);
        return xmax == 0 || (infomask & (XmaxInvalid | XmaxLockOnly)) != 0;
    }
}
