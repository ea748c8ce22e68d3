using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// The varlena geometric types (src/include/utils/geo_decls.h, geo_ops.c); the fixed-length ones (point,
/// lseg, line, box, circle) are float8s in the order they are sent, each only byte-swapped.
/// path: stored as point count, closed flag, 4 bytes of padding, then the points (x, y float8 each);
/// sent as the closed flag (one byte), the count, the points. polygon: stored as point count, the
/// bounding box (four float8s), the points; sent as the count and the points (the box is derived).
/// </summary>
public static class GeometricSendConverter
{
    private const int PointSize = 16;

    public static void WritePath(string typeName, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 12) throw Corrupt(typeName, $"a value of {payload.Length} bytes lacks count and flag");
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var closed = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var points = Points(typeName, payload[12..], count);
        output.WriteByte(closed != 0 ? (byte)1 : (byte)0);
        output.WriteInt32(count);
        WriteFloat8s(points, output);
    }

    public static void WritePolygon(string typeName, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 36) throw Corrupt(typeName, $"a value of {payload.Length} bytes lacks count and bounding box");
        var count = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var points = Points(typeName, payload[36..], count);
        output.WriteInt32(count);
        WriteFloat8s(points, output);
    }

    /// <summary>Each 8-byte group turned big-endian.</summary>
    public static void WriteFloat8s(ReadOnlySpan<byte> values, SendBuffer output)
    {
        for (var at = 0; at + 8 <= values.Length; at += 8)
            output.WriteInt64(BinaryPrimitives.ReadInt64LittleEndian(values[at..]));
    }

    private static ReadOnlySpan<byte> Points(string typeName, ReadOnlySpan<byte> area, int count)
    {
        if (count < 0 || count > area.Length / PointSize || area.Length != count * PointSize)
            throw Corrupt(typeName, $"{count} points do not fill {area.Length} bytes");
        return area;
    }

    private static DatumFormatException Corrupt(string typeName, string what) => new($"{typeName}: {what}");
}
