namespace DataSync.Wal.Records;

/// <summary>
/// One block reference of a record (XLogRecordBlockHeader and its optional parts,
/// src/include/access/xlogrecord.h). Offsets point into the record's bytes; use
/// <see cref="WalRecord.BlockData"/>, <see cref="WalRecord.BlockImage"/> and
/// <see cref="WalRecord.RestorePageImage"/> to reach the bytes.
/// </summary>
/// <remarks>
/// Mutable only inside this assembly, so the decoder can fill the reused array in place; the
/// record hands it out by <c>ref readonly</c>.
/// </remarks>
public struct BlockReference
{
    /// <summary>fork_flags high bits.</summary>
    public const byte HasImageFlag = 0x10;
    public const byte HasDataFlag = 0x20;
    public const byte WillInitFlag = 0x40;
    public const byte SameRelFlag = 0x80;

    /// <summary>bimg_info bits.</summary>
    public const byte ImageHasHole = 0x01;
    public const byte ImageApply = 0x02;
    public const byte ImagePglz = 0x04;
    public const byte ImageLz4 = 0x08;
    public const byte ImageZstd = 0x10;

    public byte BlockId { get; internal set; }
    public byte ForkFlags { get; internal set; }
    public RelFileLocator Relation { get; internal set; }
    public uint BlockNumber { get; internal set; }

    public int DataOffset { get; internal set; }
    public int DataLength { get; internal set; }

    public int ImageOffset { get; internal set; }
    /// <summary>Bytes of the image as stored (compressed, or without its hole).</summary>
    public int ImageLength { get; internal set; }
    public int HoleOffset { get; internal set; }
    public int HoleLength { get; internal set; }
    public byte ImageInfo { get; internal set; }

    public readonly ForkNumber Fork => (ForkNumber)(ForkFlags & 0x0F);
    public readonly bool HasImage => (ForkFlags & HasImageFlag) != 0;
    public readonly bool HasData => (ForkFlags & HasDataFlag) != 0;
    public readonly bool WillInit => (ForkFlags & WillInitFlag) != 0;
    /// <summary>The header left out the relation because it is the previous block's.</summary>
    public readonly bool SameRelation => (ForkFlags & SameRelFlag) != 0;
    /// <summary>The image must be restored at redo (false only for wal_consistency_checking images).</summary>
    public readonly bool ImageApplies => (ImageInfo & ImageApply) != 0;

    public readonly ImageCompression Compression =>
        (ImageInfo & ImagePglz) != 0 ? ImageCompression.Pglz
        : (ImageInfo & ImageLz4) != 0 ? ImageCompression.Lz4
        : (ImageInfo & ImageZstd) != 0 ? ImageCompression.Zstd
        : ImageCompression.None;
}
