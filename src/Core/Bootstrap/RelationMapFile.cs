using System.Buffers.Binary;

namespace DataSync.Core.Bootstrap;

/// <summary>
/// A <c>pg_filenode.map</c> file: which file number holds each "mapped" catalog (the shared ones in
/// <c>global/</c>, whose pg_class rows say 0). Layout (src/backend/utils/cache/relmapper.c): a 32-bit
/// magic 0x592717, the count of entries, then 64 slots of (catalog OID, file number), then a CRC-32C.
/// </summary>
public static class RelationMapFile
{
    public const string FileName = "pg_filenode.map";

    private const int Magic = 0x592717;
    private const int MaxMappings = 64;
    private const int Size = 8 + MaxMappings * 8 + 4;

    /// <summary>The file number of catalog <paramref name="catalogOid"/> in the map at <paramref name="path"/>, or null when it has no entry.</summary>
    public static uint? FileNumberOf(string path, uint catalogOid)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < Size)
            throw new InvalidDataException($"{path} is {bytes.Length} bytes; a relation map file has {Size}");
        var span = bytes.AsSpan();
        var magic = BinaryPrimitives.ReadInt32LittleEndian(span);
        if (magic != Magic)
            throw new InvalidDataException($"{path} starts with 0x{magic:X}, not the relation map magic 0x{Magic:X}");
        var count = BinaryPrimitives.ReadInt32LittleEndian(span[4..]);
        if (count is < 0 or > MaxMappings)
            throw new InvalidDataException($"{path} claims {count} mappings; at most {MaxMappings} fit");
        for (var i = 0; i < count; i++)
        {
            var entry = span.Slice(8 + i * 8, 8);
            if (BinaryPrimitives.ReadUInt32LittleEndian(entry) == catalogOid) return BinaryPrimitives.ReadUInt32LittleEndian(entry[4..]);
        }

        return null;
    }
}
