using System.Buffers.Binary;

namespace DataSync.Wal.Values;

/// <summary>
/// PostGIS geometry and geography (extension postgis): the stored serialized form (GSERIALIZED, liblwgeom/gserialized.txt,
/// gserialized1.h, gserialized2.h) to the send form, extended WKB in the machine's order, little-endian (lwout_wkb.c, as
/// geometry_send and geography_send call it with WKB_EXTENDED and no order).
/// </summary>
/// <remarks>
/// <para>Stored, after the varlena header: three bytes of SRID (21 bits, big-endian, sign-extended; 0 means unknown), a
/// flags byte (Z 0x01, M 0x02, bounding box 0x04, geodetic 0x08; 0x40 marks version 2, whose 0x10 says eight bytes of
/// extended flags follow, while in version 1 0x10 and 0x20 are read-only and solid flags and nothing follows), then the
/// bounding box when flagged (float4 minimum and maximum per dimension: x, y, z for geodetic values, otherwise x, y and
/// Z and M as present), then the geometry. Each geometry is a 32-bit type and a 32-bit count (points, rings or members);
/// a polygon's ring point counts follow, padded to eight bytes; then the points, 2 to 4 float8s as the top flags say;
/// a collection's members follow it whole. Integers and floats are in the machine's order (little-endian), as is the
/// send form, so ordinates are copied as they are.</para>
/// <para>Sent, per geometry: a byte order byte (1), the WKB type with 0x80000000 for Z, 0x40000000 for M and, on the
/// outermost geometry when its SRID is known, 0x20000000 followed by the SRID; then the count and the points (a point
/// has no count, and an empty point is sent as NaN ordinates); a polygon's rings each as a count and points; a triangle
/// as a polygon of one ring; a collection's members as whole geometries. Bounding box and extended flags are not sent.
/// The WKB type numbers differ from the stored ones for polyhedral surface (13 → 15), triangle (14 → 17) and TIN
/// (15 → 16). PostGIS's NURBS curve (stored type 16, added after PostGIS 3.6) is refused.</para>
/// </remarks>
public static class GeometrySendConverter
{
    private const byte FlagZ = 0x01;
    private const byte FlagM = 0x02;
    private const byte FlagBox = 0x04;
    private const byte FlagGeodetic = 0x08;
    private const byte FlagExtended = 0x10;
    private const byte FlagVersion2 = 0x40;

    private const uint WkbZ = 0x80000000;
    private const uint WkbM = 0x40000000;
    private const uint WkbSrid = 0x20000000;

    private const uint Point = 1, Line = 2, Polygon = 3, MultiPoint = 4, MultiLine = 5, MultiPolygon = 6, Collection = 7,
        CircularString = 8, CompoundCurve = 9, CurvePolygon = 10, MultiCurve = 11, MultiSurface = 12,
        PolyhedralSurface = 13, Triangle = 14, Tin = 15;

    private const int MaxDepth = 200;

    /// <summary>Appends the EWKB of the serialized value <paramref name="payload"/> (the bytes after the varlena header).</summary>
    public static void Write(string type, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        if (payload.Length < 4) throw new DatumFormatException($"{type}: a value of {payload.Length} bytes lacks its SRID and flags");
        var srid = payload[0] << 16 | payload[1] << 8 | payload[2];
        if ((srid & 0x00100000) != 0) srid |= unchecked((int)0xFFE00000);
        var flags = payload[3];
        var dimensions = 2 + (flags & FlagZ) + ((flags & FlagM) >> 1);
        var at = 4;
        if ((flags & FlagVersion2) != 0 && (flags & FlagExtended) != 0) at += 8;
        if ((flags & FlagBox) != 0) at += (flags & FlagGeodetic) != 0 ? 6 * 4 : 2 * dimensions * 4;
        if (at > payload.Length)
            throw new DatumFormatException($"{type}: a value of {payload.Length} bytes ends inside its header (flags 0x{flags:x2})");

        var reader = new Reader(type, payload, at, dimensions, flags);
        reader.WriteGeometry(output, srid, 0);
        if (reader.Offset != payload.Length)
            throw new DatumFormatException($"{type}: {payload.Length - reader.Offset} bytes follow the geometry at offset {reader.Offset}");
    }

    /// <summary>Reads the serialized geometry, every read checked against the value's end; errors name the offset.</summary>
    private ref struct Reader(string type, ReadOnlySpan<byte> payload, int offset, int dimensions, byte flags)
    {
        private readonly ReadOnlySpan<byte> _payload = payload;

        public int Offset { get; private set; } = offset;

        /// <param name="srid">The SRID to send, 0 for none (members of a collection never carry one).</param>
        public void WriteGeometry(SendBuffer output, int srid, int depth)
        {
            if (depth > MaxDepth) throw Error($"collections nest deeper than {MaxDepth}");
            var geometryType = ReadUInt32();
            var count = ReadUInt32();
            switch (geometryType)
            {
                case Point:
                    if (count > 1) throw Error($"a point with {count} points");
                    WriteHeader(output, Point, srid);
                    if (count == 0)
                    {
                        // An empty point goes as a point whose ordinates are all the quiet NaN 0x7ff8000000000000.
                        for (var i = 0; i < dimensions; i++) BinaryPrimitives.WriteUInt64LittleEndian(output.Append(8), 0x7FF8000000000000);
                    }
                    else
                    {
                        output.WriteBytes(ReadPoints(1));
                    }

                    return;
                case Line:
                case CircularString:
                    WriteHeader(output, geometryType, srid);
                    WriteUInt32(output, count);
                    output.WriteBytes(ReadPoints(count));
                    return;
                case Triangle:
                    WriteHeader(output, 17, srid);
                    if (count == 0)
                    {
                        WriteUInt32(output, 0);
                        return;
                    }

                    WriteUInt32(output, 1);
                    WriteUInt32(output, count);
                    output.WriteBytes(ReadPoints(count));
                    return;
                case Polygon:
                    WritePolygon(output, count, srid);
                    return;
                case MultiPoint:
                case MultiLine:
                case MultiPolygon:
                case Collection:
                case CompoundCurve:
                case CurvePolygon:
                case MultiCurve:
                case MultiSurface:
                case PolyhedralSurface:
                case Tin:
                    WriteHeader(output, geometryType switch { PolyhedralSurface => 15, Tin => 16, _ => geometryType }, srid);
                    WriteUInt32(output, count);
                    for (var i = 0u; i < count; i++)
                    {
                        var memberType = PeekUInt32();
                        if (!Allows(geometryType, memberType)) throw Error($"a {Name(geometryType)} holding a {Name(memberType)}");
                        WriteGeometry(output, 0, depth + 1);
                    }

                    return;
                default:
                    throw Error($"geometry type {geometryType} ({Name(geometryType)}) is not supported");
            }
        }

        private void WritePolygon(SendBuffer output, uint rings, int srid)
        {
            var countsAt = Offset;
            var countsSize = 4 * (ulong)rings + (rings % 2 == 1 ? 4ul : 0);
            if (countsSize > (ulong)(_payload.Length - Offset)) throw Error($"the point counts of {rings} rings do not fit");
            Offset += (int)countsSize;
            WriteHeader(output, Polygon, srid);
            // A polygon whose first ring has no points is sent as an empty polygon, as liblwgeom does.
            if (rings == 0 || BinaryPrimitives.ReadUInt32LittleEndian(_payload[countsAt..]) == 0)
            {
                WriteUInt32(output, 0);
                for (var ring = 0; ring < rings; ring++) ReadPoints(BinaryPrimitives.ReadUInt32LittleEndian(_payload[(countsAt + 4 * ring)..]));
                return;
            }

            WriteUInt32(output, rings);
            for (var ring = 0; ring < rings; ring++)
            {
                var points = BinaryPrimitives.ReadUInt32LittleEndian(_payload[(countsAt + 4 * ring)..]);
                WriteUInt32(output, points);
                output.WriteBytes(ReadPoints(points));
            }
        }

        private void WriteHeader(SendBuffer output, uint wkbType, int srid)
        {
            if ((flags & FlagZ) != 0) wkbType |= WkbZ;
            if ((flags & FlagM) != 0) wkbType |= WkbM;
            if (srid != 0) wkbType |= WkbSrid;
            output.WriteByte(1);
            WriteUInt32(output, wkbType);
            if (srid != 0) WriteUInt32(output, (uint)srid);
        }

        private static void WriteUInt32(SendBuffer output, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(output.Append(4), value);

        private ReadOnlySpan<byte> ReadPoints(uint count)
        {
            var size = (ulong)count * (ulong)dimensions * 8;
            if (size > (ulong)(_payload.Length - Offset)) throw Error($"{count} points of {dimensions} ordinates do not fit");
            var points = _payload.Slice(Offset, (int)size);
            Offset += (int)size;
            return points;
        }

        private uint ReadUInt32()
        {
            var value = PeekUInt32();
            Offset += 4;
            return value;
        }

        private readonly uint PeekUInt32()
        {
            if (Offset + 4 > _payload.Length) throw Error("the value ends inside a geometry");
            return BinaryPrimitives.ReadUInt32LittleEndian(_payload[Offset..]);
        }

        private readonly DatumFormatException Error(string what) =>
            new($"{type}: {what} (offset {Offset} of {_payload.Length}, flags 0x{flags:x2})");
    }

    /// <summary>Which members each collection type may hold (liblwgeom's lwcollection_allows_subtype, without NURBS).</summary>
    private static bool Allows(uint collection, uint member) => collection switch
    {
        Collection => true,
        MultiPoint => member == Point,
        MultiLine => member == Line,
        MultiPolygon or PolyhedralSurface => member == Polygon,
        CompoundCurve => member is Line or CircularString,
        CurvePolygon or MultiCurve => member is Line or CircularString or CompoundCurve,
        MultiSurface => member is Polygon or CurvePolygon,
        Tin => member == Triangle,
        _ => false,
    };

    private static string Name(uint geometryType) => geometryType switch
    {
        Point => "point",
        Line => "linestring",
        Polygon => "polygon",
        MultiPoint => "multipoint",
        MultiLine => "multilinestring",
        MultiPolygon => "multipolygon",
        Collection => "geometrycollection",
        CircularString => "circularstring",
        CompoundCurve => "compoundcurve",
        CurvePolygon => "curvepolygon",
        MultiCurve => "multicurve",
        MultiSurface => "multisurface",
        PolyhedralSurface => "polyhedralsurface",
        Triangle => "triangle",
        Tin => "tin",
        16 => "nurbscurve",
        _ => "unknown type",
    };
}
