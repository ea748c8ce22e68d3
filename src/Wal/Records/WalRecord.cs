using System.Buffers.Binary;
using DataSync.Wal.Checksums;
using DataSync.Wal.Compression;
using DataSync.Wal.Rmgr;
using K4os.Compression.LZ4;

namespace DataSync.Wal.Records;

/// <summary>
/// One decoded WAL record: the fixed XLogRecord header, its block references and its main data
/// (src/include/access/xlogrecord.h). The reader reuses one instance; spans and offsets stay
/// valid until the next <see cref="WalRecordReader.MoveNext"/>.
/// </summary>
/// <remarks>
/// Layout: 24-byte header (total length u32 @0, xid u32 @4, previous record u64 @8, info u8 @16,
/// rmgr u8 @17, 2 pad bytes, CRC u32 @20), then fragment headers with no padding (block headers
/// with ids 0-32 in increasing order, origin 253, top-level xid 252, main-data length 255/254),
/// then the payloads in header order: per block its image then its data, then the main data.
/// </remarks>
public sealed class WalRecord
{
    public const int HeaderSize = 24;
    public const int MaxBlockId = 32;
    /// <summary>XLogRecordMaxSize: PostgreSQL never writes a record longer than 1020 MiB.</summary>
    public const uint MaxTotalLength = 1020u * 1024 * 1024;

    private const byte BlockIdTopLevelXid = 252;
    private const byte BlockIdOrigin = 253;
    private const byte BlockIdDataLong = 254;
    private const byte BlockIdDataShort = 255;

    private readonly BlockReference[] _blocks = new BlockReference[MaxBlockId + 1];
    private byte[] _buffer = [];
    private int _offset;
    private byte[]? _scratch;
    private ZstdSharp.Decompressor? _zstd;

    internal WalRecord(int blockSize) => BlockSize = blockSize;

    /// <summary>Size of a data page (BLCKSZ), which full-page images restore to.</summary>
    public int BlockSize { get; }

    public Lsn Lsn { get; private set; }
    /// <summary>Where the next record starts (the end of this one rounded up to 8 bytes), as pg_walinspect's end_lsn.</summary>
    public Lsn EndLsn { get; internal set; }
    public uint TotalLength { get; private set; }
    /// <summary>xl_xid: the (sub)transaction that wrote the record, 0 when none.</summary>
    public uint Xid { get; private set; }
    public Lsn PrevLsn { get; private set; }
    public byte Info { get; private set; }
    /// <summary>xl_rmid: the resource manager id, see <see cref="Rmgr"/>.</summary>
    public byte Rmid { get; private set; }
    public uint Crc { get; private set; }

    /// <summary>The top-level xid a subtransaction's first record carries (block id 252); 0 when absent.</summary>
    public uint TopLevelXid { get; private set; }
    public bool HasOrigin { get; private set; }
    /// <summary>Replication origin of the writing session (block id 253); 0 when absent.</summary>
    public ushort Origin { get; private set; }

    public int BlockCount { get; private set; }
    public int MainDataOffset { get; private set; }
    public int MainDataLength { get; private set; }

    /// <summary>File the record starts in and the offset of its first byte there, for error messages.</summary>
    public string FileName { get; private set; } = "";
    public long FileOffset { get; private set; }

    public RmgrId Rmgr => (RmgrId)Rmid;
    /// <summary>The resource-manager-specific bits of xl_info (high nibble).</summary>
    public byte RmgrInfo => (byte)(Info & 0xF0);
    public string RmgrName => RmgrNames.RmgrName(Rmid);
    public string RecordType => RmgrNames.RecordType(Rmid, Info);

    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(_offset, (int)TotalLength);
    public ReadOnlySpan<byte> MainData => _buffer.AsSpan(_offset + MainDataOffset, MainDataLength);
    public ReadOnlySpan<BlockReference> Blocks => _blocks.AsSpan(0, BlockCount);

    public ref readonly BlockReference Block(int index) => ref _blocks[index];

    /// <summary>The block reference with block id <paramref name="blockId"/> (ids may have gaps), or -1.</summary>
    public int IndexOfBlockId(int blockId)
    {
        for (var i = 0; i < BlockCount; i++)
            if (_blocks[i].BlockId == blockId) return i;
        return -1;
    }

    public ReadOnlySpan<byte> BlockData(int index) =>
        _buffer.AsSpan(_offset + _blocks[index].DataOffset, _blocks[index].DataLength);

    /// <summary>The image bytes as stored in the record (compressed, or without the hole).</summary>
    public ReadOnlySpan<byte> BlockImage(int index) =>
        _buffer.AsSpan(_offset + _blocks[index].ImageOffset, _blocks[index].ImageLength);

    /// <summary>Total stored image bytes of all blocks, as pg_walinspect's fpi_length.</summary>
    public int FullPageImageLength
    {
        get
        {
            var total = 0;
            for (var i = 0; i < BlockCount; i++) total += _blocks[i].ImageLength;
            return total;
        }
    }

    /// <summary>
    /// Rebuilds the full page of block <paramref name="index"/> into <paramref name="page"/>
    /// (exactly <see cref="BlockSize"/> bytes): decompress if needed, then put the hole back as zeros.
    /// </summary>
    public void RestorePageImage(int index, Span<byte> page)
    {
        ref readonly var block = ref _blocks[index];
        if (!block.HasImage) throw Error(WalErrorKind.BadImage, $"block {block.BlockId} has no full-page image");
        if (page.Length != BlockSize) throw new ArgumentException($"the page buffer must be {BlockSize} bytes", nameof(page));

        var stored = BlockImage(index);
        var expected = BlockSize - block.HoleLength;
        ReadOnlySpan<byte> content;
        if (block.Compression == ImageCompression.None)
        {
            content = stored;
        }
        else
        {
            _scratch ??= new byte[BlockSize];
            var target = _scratch.AsSpan(0, expected);
            var produced = block.Compression switch
            {
                ImageCompression.Pglz => PglzDecompressor.Decompress(stored, target, requireExactFit: true),
                ImageCompression.Lz4 => LZ4Codec.Decode(stored, target),
                _ => DecompressZstd(stored, target),
            };
            if (produced != expected)
                throw Error(WalErrorKind.BadImage, $"block {block.BlockId}: {block.Compression} image does not decompress to {expected} bytes");
            content = target;
        }

        content[..block.HoleOffset].CopyTo(page);
        page.Slice(block.HoleOffset, block.HoleLength).Clear();
        content[block.HoleOffset..].CopyTo(page[(block.HoleOffset + block.HoleLength)..]);
    }

    private int DecompressZstd(ReadOnlySpan<byte> source, Span<byte> target)
    {
        _zstd ??= new ZstdSharp.Decompressor();
        try
        {
            return _zstd.Unwrap(source, target);
        }
        catch (ZstdSharp.ZstdException)
        {
            return -1;
        }
    }

    /// <summary>A typed error at this record, for the typed-record parsers and image restore.</summary>
    public WalFormatException Error(WalErrorKind kind, string detail) =>
        new(kind, FileName, FileOffset, Lsn, $"{RmgrName} {RecordType}: {detail}");

    /// <summary>Whether the record still refers to the bytes it was decoded from (false once <see cref="Forget"/> let go of them).</summary>
    internal bool HoldsBytes => _buffer.Length > 0;

    /// <summary>
    /// Lets go of the buffer the record was decoded from, once the reader is past it: that buffer is a whole framed
    /// segment (16 MiB), given back to its pool, and a reused record that kept pointing at it would keep it alive
    /// after the pool let go of it (a quiet daemon held its last segment this way). No block nor main data is left.
    /// </summary>
    internal void Forget()
    {
        _buffer = [];
        _offset = 0;
        BlockCount = 0;
        MainDataOffset = 0;
        MainDataLength = 0;
    }

    /// <summary>
    /// Takes <paramref name="totalLength"/> bytes at <paramref name="offset"/> of <paramref name="buffer"/>
    /// as the record at <paramref name="lsn"/>: checks the CRC and the header, and splits the body into
    /// block references and main data. Returns null, or what is wrong (and the kind) without throwing,
    /// so the reader can attach the file position. <paramref name="verifyCrc"/> is false only for
    /// bytes whose CRC was checked already (a <see cref="FramedSegment"/>'s).
    /// </summary>
    internal string? Decode(byte[] buffer, int offset, uint totalLength, Lsn lsn, string fileName, long fileOffset, bool verifyCrc, out WalErrorKind kind)
    {
        _buffer = buffer;
        _offset = offset;
        Lsn = lsn;
        TotalLength = totalLength;
        FileName = fileName;
        FileOffset = fileOffset;
        BlockCount = 0;
        MainDataOffset = 0;
        MainDataLength = 0;
        TopLevelXid = 0;
        HasOrigin = false;
        Origin = 0;

        var record = buffer.AsSpan(offset, (int)totalLength);
        Xid = BinaryPrimitives.ReadUInt32LittleEndian(record[4..]);
        PrevLsn = new Lsn(BinaryPrimitives.ReadUInt64LittleEndian(record[8..]));
        Info = record[16];
        Rmid = record[17];
        Crc = BinaryPrimitives.ReadUInt32LittleEndian(record[20..]);

        kind = WalErrorKind.BadRecordHeader;
        if (!RmgrNames.IsValid(Rmid)) return $"invalid resource manager id {Rmid}";

        // PostgreSQL checks the body first and the header (up to the CRC field) last.
        if (verifyCrc)
        {
            var crc = Crc32C.Finish(Crc32C.AppendRecordHeader(Crc32C.Append(Crc32C.Initial, record[HeaderSize..]), record));
            if (crc != Crc)
            {
                kind = WalErrorKind.BadCrc;
                return $"CRC-32C is {crc:X8}, the record says {Crc:X8}";
            }
        }

        kind = WalErrorKind.BadBlockReference;
        return DecodeFragments(record);
    }

    private string? DecodeFragments(ReadOnlySpan<byte> record)
    {
        var p = HeaderSize;
        var remaining = record.Length - HeaderSize;
        long payload = 0;
        long blockPayload = 0;
        var lastBlockId = -1;
        var haveRelation = false;
        RelFileLocator relation = default;
        var hasMainData = false;
        long mainLength = 0;

        while (remaining > payload)
        {
            var id = record[p];
            p++;
            remaining--;
            if (id == BlockIdDataShort)
            {
                if (remaining < 1) return "record ends inside a main-data header";
                mainLength = record[p];
                p++;
                remaining--;
                hasMainData = true;
                payload += mainLength;
                break;
            }

            if (id == BlockIdDataLong)
            {
                if (remaining < 4) return "record ends inside a main-data header";
                mainLength = BinaryPrimitives.ReadUInt32LittleEndian(record[p..]);
                p += 4;
                remaining -= 4;
                hasMainData = true;
                payload += mainLength;
                break;
            }

            if (id == BlockIdOrigin)
            {
                if (remaining < 2) return "record ends inside the origin header";
                Origin = BinaryPrimitives.ReadUInt16LittleEndian(record[p..]);
                HasOrigin = true;
                p += 2;
                remaining -= 2;
                continue;
            }

            if (id == BlockIdTopLevelXid)
            {
                if (remaining < 4) return "record ends inside the top-level xid header";
                TopLevelXid = BinaryPrimitives.ReadUInt32LittleEndian(record[p..]);
                p += 4;
                remaining -= 4;
                continue;
            }

            if (id > MaxBlockId) return $"invalid block id {id}";
            if (id <= lastBlockId) return $"block id {id} out of order after {lastBlockId}";
            lastBlockId = id;

            if (remaining < 3) return $"record ends inside block {id}'s header";
            var forkFlags = record[p];
            int dataLength = BinaryPrimitives.ReadUInt16LittleEndian(record[(p + 1)..]);
            p += 3;
            remaining -= 3;
            var hasData = (forkFlags & BlockReference.HasDataFlag) != 0;
            if (hasData && dataLength == 0) return $"block {id} says it has data but its length is 0";
            if (!hasData && dataLength != 0) return $"block {id} has {dataLength} bytes of data but no data flag";
            payload += dataLength;

            int imageLength = 0, holeOffset = 0, holeLength = 0;
            byte imageInfo = 0;
            if ((forkFlags & BlockReference.HasImageFlag) != 0)
            {
                if (remaining < 5) return $"record ends inside block {id}'s image header";
                imageLength = BinaryPrimitives.ReadUInt16LittleEndian(record[p..]);
                holeOffset = BinaryPrimitives.ReadUInt16LittleEndian(record[(p + 2)..]);
                imageInfo = record[p + 4];
                p += 5;
                remaining -= 5;
                var compressed = (imageInfo & (BlockReference.ImagePglz | BlockReference.ImageLz4 | BlockReference.ImageZstd)) != 0;
                var hasHole = (imageInfo & BlockReference.ImageHasHole) != 0;
                if (compressed)
                {
                    if (hasHole)
                    {
                        if (remaining < 2) return $"record ends inside block {id}'s hole length";
                        holeLength = BinaryPrimitives.ReadUInt16LittleEndian(record[p..]);
                        p += 2;
                        remaining -= 2;
                    }
                }
                else
                {
                    holeLength = BlockSize - imageLength;
                }

                if (hasHole && (holeOffset == 0 || holeLength <= 0 || imageLength == BlockSize))
                    return $"block {id}: image hole at {holeOffset} of length {holeLength} with image length {imageLength} is invalid";
                if (!hasHole && (holeOffset != 0 || holeLength != 0))
                    return $"block {id}: image without a hole has hole offset {holeOffset} and length {holeLength}";
                if (compressed && imageLength == BlockSize)
                    return $"block {id}: compressed image is as long as a page";
                if (holeOffset + holeLength > BlockSize || imageLength > BlockSize)
                    return $"block {id}: image of {imageLength} bytes with a hole of {holeLength} at {holeOffset} does not fit a {BlockSize}-byte page";
                if (imageLength == 0)
                    return $"block {id}: image length is 0";
                payload += imageLength;
            }

            if ((forkFlags & BlockReference.SameRelFlag) == 0)
            {
                if (remaining < RelFileLocator.Size) return $"record ends inside block {id}'s relation";
                relation = RelFileLocator.Read(record[p..]);
                haveRelation = true;
                p += RelFileLocator.Size;
                remaining -= RelFileLocator.Size;
            }
            else if (!haveRelation)
            {
                return $"block {id} refers to the previous block's relation, but there is none";
            }

            if (remaining < 4) return $"record ends inside block {id}'s block number";
            var blockNumber = BinaryPrimitives.ReadUInt32LittleEndian(record[p..]);
            p += 4;
            remaining -= 4;

            // Payload offsets are counted from the end of the headers for now; fixed up below.
            ref var block = ref _blocks[BlockCount++];
            block.BlockId = id;
            block.ForkFlags = forkFlags;
            block.Relation = relation;
            block.BlockNumber = blockNumber;
            block.ImageOffset = (int)blockPayload;
            block.ImageLength = imageLength;
            block.HoleOffset = holeOffset;
            block.HoleLength = holeLength;
            block.ImageInfo = imageInfo;
            block.DataOffset = (int)(blockPayload + imageLength);
            block.DataLength = dataLength;
            blockPayload += imageLength + dataLength;
        }

        if (remaining != payload)
            return $"headers announce {payload} payload bytes but {remaining} remain";

        for (var i = 0; i < BlockCount; i++)
        {
            ref var block = ref _blocks[i];
            block.ImageOffset += p;
            block.DataOffset += p;
        }

        MainDataOffset = p + (int)blockPayload;
        MainDataLength = hasMainData ? (int)mainLength : 0;

        return null;
    }
}
