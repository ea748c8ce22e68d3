using System.Buffers.Binary;

namespace DataSync.Wal.Tuples;

/// <summary>
/// The three header fields that decoding needs, whether the tuple came from WAL
/// (<c>xl_heap_header</c>: infomask2, infomask, hoff in 5 unaligned bytes, then the tuple from its
/// byte 23 on) or from a page (<c>HeapTupleHeaderData</c>, fields at 18, 20 and 22).
/// See src/include/access/htup_details.h and heapam_xlog.h.
/// </summary>
public readonly record struct HeapTupleHeader(ushort Infomask2, ushort Infomask, byte Hoff)
{
    /// <summary>SizeOfHeapHeader: the WAL form's header.</summary>
    public const int WalHeaderSize = 5;

    /// <summary>SizeofHeapTupleHeader: the fixed part of an on-page tuple; the bitmap starts here.</summary>
    public const int PageHeaderSize = 23;

    private const ushort HasNullFlag = 0x0001;
    private const ushort HasVarWidthFlag = 0x0002;
    private const ushort HasExternalFlag = 0x0004;
    private const ushort NattsMask = 0x07FF;

    /// <summary>Attributes physically present; later ones are "missing".</summary>
    public int Natts => Infomask2 & NattsMask;

    public bool HasNulls => (Infomask & HasNullFlag) != 0;
    public bool HasVarWidth => (Infomask & HasVarWidthFlag) != 0;
    public bool HasExternal => (Infomask & HasExternalFlag) != 0;

    public static HeapTupleHeader ReadWal(ReadOnlySpan<byte> walTuple)
    {
        if (walTuple.Length < WalHeaderSize)
            throw new TupleFormatException($"WAL tuple of {walTuple.Length} bytes is shorter than its {WalHeaderSize}-byte header");
        return new HeapTupleHeader(
            BinaryPrimitives.ReadUInt16LittleEndian(walTuple),
            BinaryPrimitives.ReadUInt16LittleEndian(walTuple[2..]),
            walTuple[4]);
    }

    public static HeapTupleHeader ReadPage(ReadOnlySpan<byte> pageTuple)
    {
        if (pageTuple.Length < PageHeaderSize)
            throw new TupleFormatException($"page tuple of {pageTuple.Length} bytes is shorter than its {PageHeaderSize}-byte header");
        return new HeapTupleHeader(
            BinaryPrimitives.ReadUInt16LittleEndian(pageTuple[18..]),
            BinaryPrimitives.ReadUInt16LittleEndian(pageTuple[20..]),
            pageTuple[22]);
    }
}
