using System.Buffers.Binary;
using DataSync.Wal.Records;

namespace DataSync.Wal.Tests.Support;

/// <summary>
/// Builds the part of a WAL record after its 24-byte header: fragment headers in PostgreSQL's
/// writer order (blocks by id, origin, top-level xid, main data), then the payloads.
/// </summary>
public sealed class RecordBody
{
    private readonly List<(byte Id, byte ForkFlags, RelFileLocator? Relation, uint Block, byte[] Data, byte[]? Image, ushort HoleOffset, ushort HoleLength, byte ImageInfo)> _blocks = [];
    private byte[]? _main;
    private ushort? _origin;
    private uint? _topXid;

    public RecordBody Block(byte id, RelFileLocator? relation, uint block, byte[]? data = null, ForkNumber fork = ForkNumber.Main, bool willInit = false)
    {
        var flags = (byte)((byte)fork | (data is { Length: > 0 } ? BlockReference.HasDataFlag : 0) | (willInit ? BlockReference.WillInitFlag : 0) | (relation is null ? BlockReference.SameRelFlag : 0));
        _blocks.Add((id, flags, relation, block, data ?? [], null, 0, 0, 0));
        return this;
    }

    /// <summary>A block with a stored image: <paramref name="stored"/> is the image as it goes into WAL (without hole, or compressed).</summary>
    public RecordBody ImageBlock(byte id, RelFileLocator? relation, uint block, byte[] stored, ushort holeOffset, ushort holeLength, byte imageInfo, byte[]? data = null)
    {
        var flags = (byte)(BlockReference.HasImageFlag | (data is { Length: > 0 } ? BlockReference.HasDataFlag : 0) | (relation is null ? BlockReference.SameRelFlag : 0));
        _blocks.Add((id, flags, relation, block, data ?? [], stored, holeOffset, holeLength, imageInfo));
        return this;
    }

    public RecordBody Main(byte[] data)
    {
        _main = data;
        return this;
    }

    public RecordBody Origin(ushort origin)
    {
        _origin = origin;
        return this;
    }

    public RecordBody TopLevelXid(uint xid)
    {
        _topXid = xid;
        return this;
    }

    public byte[] ToArray()
    {
        var headers = new List<byte>();
        var payload = new List<byte>();
        Span<byte> scratch = stackalloc byte[12];
        foreach (var b in _blocks)
        {
            headers.Add(b.Id);
            headers.Add(b.ForkFlags);
            BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)b.Data.Length);
            headers.AddRange(scratch[..2].ToArray());
            if (b.Image is not null)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)b.Image.Length);
                BinaryPrimitives.WriteUInt16LittleEndian(scratch[2..], b.HoleOffset);
                scratch[4] = b.ImageInfo;
                headers.AddRange(scratch[..5].ToArray());
                var compressed = (b.ImageInfo & (BlockReference.ImagePglz | BlockReference.ImageLz4 | BlockReference.ImageZstd)) != 0;
                if (compressed && (b.ImageInfo & BlockReference.ImageHasHole) != 0)
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(scratch, b.HoleLength);
                    headers.AddRange(scratch[..2].ToArray());
                }

                payload.AddRange(b.Image);
            }

            if (b.Relation is { } rel)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(scratch, rel.SpcOid);
                BinaryPrimitives.WriteUInt32LittleEndian(scratch[4..], rel.DbOid);
                BinaryPrimitives.WriteUInt32LittleEndian(scratch[8..], rel.RelNumber);
                headers.AddRange(scratch[..12].ToArray());
            }

            BinaryPrimitives.WriteUInt32LittleEndian(scratch, b.Block);
            headers.AddRange(scratch[..4].ToArray());
            payload.AddRange(b.Data);
        }

        if (_origin is { } origin)
        {
            headers.Add(253);
            BinaryPrimitives.WriteUInt16LittleEndian(scratch, origin);
            headers.AddRange(scratch[..2].ToArray());
        }

        if (_topXid is { } top)
        {
            headers.Add(252);
            BinaryPrimitives.WriteUInt32LittleEndian(scratch, top);
            headers.AddRange(scratch[..4].ToArray());
        }

        if (_main is { } main)
        {
            if (main.Length <= 255)
            {
                headers.Add(255);
                headers.Add((byte)main.Length);
            }
            else
            {
                headers.Add(254);
                BinaryPrimitives.WriteUInt32LittleEndian(scratch, (uint)main.Length);
                headers.AddRange(scratch[..4].ToArray());
            }

            payload.AddRange(main);
        }

        return [.. headers, .. payload];
    }
}
