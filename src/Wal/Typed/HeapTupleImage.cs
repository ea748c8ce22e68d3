using System.Buffers.Binary;
using DataSync.Wal.Records;

namespace DataSync.Wal.Typed;

/// <summary>
/// A heap tuple as WAL carries it: the 5-byte xl_heap_header (infomask2 u16, infomask u16, hoff u8;
/// src/include/access/heapam_xlog.h) and the tuple's bytes from offset 23 of the on-page tuple on
/// (null bitmap, padding up to <see cref="Hoff"/>, then the column data).
/// </summary>
public readonly ref struct HeapTupleImage
{
    public const int HeaderSize = 5;
    /// <summary>Offset in an on-page tuple where the WAL bytes begin (SizeofHeapTupleHeader).</summary>
    public const int OnPageHeaderSize = 23;

    public HeapTupleImage(ushort infomask2, ushort infomask, byte hoff, ReadOnlySpan<byte> body)
    {
        Infomask2 = infomask2;
        Infomask = infomask;
        Hoff = hoff;
        Body = body;
    }

    public ushort Infomask2 { get; }
    public ushort Infomask { get; }
    public byte Hoff { get; }
    /// <summary>The on-page tuple from byte 23: bitmap, padding, column data.</summary>
    public ReadOnlySpan<byte> Body { get; }

    public bool IsPresent => Hoff != 0;
    /// <summary>Number of attributes physically present (HEAP_NATTS_MASK).</summary>
    public int AttributeCount => Infomask2 & 0x07FF;
    public bool HasNulls => (Infomask & 0x0001) != 0;

    /// <summary>Writes the tuple's header in WAL form (xl_heap_header: infomask2, infomask, hoff; <see cref="HeaderSize"/> bytes).</summary>
    public void WriteWalHeader(Span<byte> target)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(target, Infomask2);
        BinaryPrimitives.WriteUInt16LittleEndian(target[2..], Infomask);
        target[4] = Hoff;
    }

    internal static HeapTupleImage Read(WalRecord record, ReadOnlySpan<byte> bytes, string what)
    {
        if (bytes.Length < HeaderSize)
            throw record.Error(WalErrorKind.BadRecordData, $"{what}: {bytes.Length} bytes cannot hold a tuple header");
        var image = new HeapTupleImage(
            BinaryPrimitives.ReadUInt16LittleEndian(bytes),
            BinaryPrimitives.ReadUInt16LittleEndian(bytes[2..]),
            bytes[4],
            bytes[HeaderSize..]);
        if (image.Hoff < OnPageHeaderSize || image.Hoff - OnPageHeaderSize > image.Body.Length)
            throw record.Error(WalErrorKind.BadRecordData, $"{what}: t_hoff {image.Hoff} does not fit {image.Body.Length} tuple bytes");
        return image;
    }
}
