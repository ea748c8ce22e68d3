using System.Buffers.Binary;

namespace DataSync.Wal.Pages;

/// <summary>
/// The header at the start of every WAL page (XLogPageHeaderData, and XLogLongPageHeaderData on the
/// first page of a segment; src/include/access/xlog_internal.h).
/// </summary>
/// <remarks>
/// Short form, 24 bytes: magic u16 @0, info u16 @2, timeline u32 @4, page address u64 @8,
/// remaining length of a continued record u32 @16, 4 bytes padding.
/// Long form adds system identifier u64 @24, segment size u32 @32, WAL page size u32 @36.
/// </remarks>
public readonly struct WalPageHeader
{
    public const ushort Pg18Magic = 0xD118;
    public const int ShortSize = 24;
    public const int LongSize = 40;

    public ushort Magic { get; init; }
    public WalPageFlags Flags { get; init; }
    public uint Timeline { get; init; }
    public Lsn PageAddress { get; init; }
    public uint RemainingLength { get; init; }
    public ulong SystemIdentifier { get; init; }
    public uint SegmentSize { get; init; }
    public uint PageSize { get; init; }

    public bool IsLong => (Flags & WalPageFlags.LongHeader) != 0;
    public int Size => IsLong ? LongSize : ShortSize;
    public bool IsContinuation => (Flags & WalPageFlags.FirstIsContinuation) != 0;

    /// <summary>Reads a header; the caller guarantees <paramref name="page"/> holds at least <see cref="ShortSize"/> bytes (40 for a long one).</summary>
    public static WalPageHeader Read(ReadOnlySpan<byte> page)
    {
        var flags = (WalPageFlags)BinaryPrimitives.ReadUInt16LittleEndian(page[2..]);
        var isLong = (flags & WalPageFlags.LongHeader) != 0 && page.Length >= LongSize;
        return new WalPageHeader
        {
            Magic = BinaryPrimitives.ReadUInt16LittleEndian(page),
            Flags = flags,
            Timeline = BinaryPrimitives.ReadUInt32LittleEndian(page[4..]),
            PageAddress = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(page[8..])),
            RemainingLength = BinaryPrimitives.ReadUInt32LittleEndian(page[16..]),
            SystemIdentifier = isLong ? BinaryPrimitives.ReadUInt64LittleEndian(page[24..]) : 0,
            SegmentSize = isLong ? BinaryPrimitives.ReadUInt32LittleEndian(page[32..]) : 0,
            PageSize = isLong ? BinaryPrimitives.ReadUInt32LittleEndian(page[36..]) : 0,
        };
    }

    /// <summary>PostgreSQL accepts segment sizes that are powers of two from 1 MiB to 1 GiB (IsValidWalSegSize).</summary>
    public static bool IsValidSegmentSize(uint size) =>
        size >= 1u << 20 && size <= 1u << 30 && (size & (size - 1)) == 0;

    /// <summary>WAL page sizes PostgreSQL can be built with (configure --with-wal-blocksize): 1 to 64 KiB, powers of two.</summary>
    public static bool IsValidPageSize(uint size) =>
        size >= 1024 && size <= 65536 && (size & (size - 1)) == 0;
}
