using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// cube, of the extension cube (contrib/cube/cubedata.h, cube.c cube_send). Stored: a header word, the dimension
/// count in its low 31 bits and a flag for a point (one corner stored, not two) in the top bit, then the
/// coordinates as float8s. Sent: the header word, then the stored coordinates, all big-endian.
/// </summary>
public static class CubeSendConverter
{
    private const uint PointFlag = 0x80000000;

    public static void Write(string type, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 4) throw new DatumFormatException($"{type}: a value of {payload.Length} bytes lacks its header");
        var header = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        var dimensions = (long)(header & ~PointFlag);
        var coordinates = (header & PointFlag) != 0 ? dimensions : 2 * dimensions;
        if (4 + 8 * coordinates > payload.Length)
            throw new DatumFormatException($"{type}: {coordinates} coordinates do not fit {payload.Length} bytes");
        output.WriteUInt32(header);
        for (var i = 0; i < coordinates; i++)
            output.WriteInt64(BinaryPrimitives.ReadInt64LittleEndian(payload[(4 + 8 * (int)i)..]));
    }
}
