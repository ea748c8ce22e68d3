using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Values;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// PostGIS geometry and geography: every value captured from a PostGIS server (<see cref="PostgisFixture"/>) converts
/// to exactly the bytes of that server's COPY BINARY, through the plan an extension type gets from the catalog; the
/// serialization of PostGIS 2 (version 1), which no PostGIS 3 writes, is checked on the captured values rewritten in
/// that format; hand-built values cover what PostGIS does not write itself; damaged values give typed errors only.
/// </summary>
public sealed class GeometrySendConverterTests
{
    private static readonly TypeDescriptor Geometry = new(70001, "public", "geometry", 'b', -1, false, 'd', 'm', 0, 0, 0, false, Extension: "postgis");
    private static readonly TypeDescriptor Geography = new(70002, "public", "geography", 'b', -1, false, 'd', 'm', 0, 0, 0, false, Extension: "postgis");
    private static readonly TypeDescriptor Box2d = new(70003, "public", "box2d", 'b', 65, false, 'i', 'p', 0, 0, 0, false, Extension: "postgis");
    private static readonly ValueConverter Converter = new(new TypeRegistry([Geometry, Geography, Box2d], []));

    public static TheoryData<string, int> Captured()
    {
        var data = new TheoryData<string, int>();
        foreach (var value in PostgisFixture.Values.Where(v => v.Send is not null)) data.Add(value.Type, value.Id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Captured))]
    public void A_captured_value_converts_to_the_servers_copy_bytes(string type, int id)
    {
        var value = Find(type, id);
        Assert.Equal(Convert.ToHexString(value.Send!), Send(type, value.Payload));
    }

    /// <summary>The same values in the serialization of PostGIS 2 (version 1: no version bit; a solid is flagged in the
    /// flags byte instead of the extended flags, which version 1 lacks) send the same bytes.</summary>
    [Theory]
    [MemberData(nameof(Captured))]
    public void A_captured_value_rewritten_as_serialization_version_1_converts_to_the_same_bytes(string type, int id)
    {
        var value = Find(type, id);
        var payload = value.Payload.ToArray();
        var flags = payload[3];
        Assert.Equal(0x40, flags & 0x40);
        byte[] version1;
        if ((flags & 0x10) != 0)
        {
            var solid = (BinaryPrimitives.ReadUInt64LittleEndian(payload.AsSpan(4)) & 1) != 0;
            version1 = [.. payload[..4], .. payload[12..]];
            version1[3] = (byte)(flags & ~0x50 | (solid ? 0x20 : 0));
        }
        else
        {
            version1 = payload.ToArray();
            version1[3] = (byte)(flags & ~0x40);
        }

        Assert.Equal(Convert.ToHexString(value.Send!), Send(type, version1));
        // Version 1's read-only flag has the bit that in version 2 announces extended flags: nothing follows it.
        version1[3] |= 0x10;
        Assert.Equal(Convert.ToHexString(value.Send!), Send(type, version1));
    }

    /// <summary>The fixture holds what the tests above claim to cover, and its stored bytes are the detoasted ones
    /// wherever the page holds the value whole and uncompressed.</summary>
    [Fact]
    public void The_fixture_covers_toast_compression_boxes_extended_flags_and_geography()
    {
        Assert.StartsWith("PostGIS 3.", PostgisFixture.Version);
        var values = PostgisFixture.Values.Where(v => v.Send is not null).ToList();
        Assert.Equal(95, values.Count);
        Assert.True(values.Count(v => v.Stored[0] == 0x01) >= 2, "values stored out of line");
        Assert.True(values.Count(v => (v.Stored[0] & 0x03) == 0x02) >= 2, "values compressed inline");
        Assert.Contains(values, v => (v.Payload[3] & 0x10) != 0);
        Assert.True(values.Count(v => (v.Payload[3] & 0x04) != 0) >= 20, "values with a stored bounding box");
        Assert.Equal(20, values.Count(v => v.Type == "geography"));
        Assert.All(values.Where(v => v.Type == "geography"), v => Assert.Equal(0x08, v.Payload[3] & 0x08));
        foreach (var value in values)
        {
            ReadOnlySpan<byte> stored = value.Stored;
            if ((stored[0] & 0x01) == 1 && stored[0] != 0x01) Assert.True(stored[1..].SequenceEqual(value.Payload), value.ToString());
            else if ((stored[0] & 0x03) == 0) Assert.True(stored[4..].SequenceEqual(value.Payload), value.ToString());
        }
    }

    [Fact]
    public void Geometry_and_geography_are_supported_and_postgis_other_types_refused_with_why()
    {
        var types = new TypeRegistry([Geometry, Geography, Box2d], []);
        Assert.Null(SupportedTypes.WhyUnsupported(Geometry.Oid, types));
        Assert.Null(SupportedTypes.WhyUnsupported(Geography.Oid, types));
        Assert.Equal(SendForm.Geometry, Converter.PlanFor(Geography.Oid).Form);
        Assert.Equal("type public.box2d of extension postgis is not supported: of PostGIS's types only geometry and geography are decoded",
            SupportedTypes.WhyUnsupported(Box2d.Oid, types));
        // A type named geometry that no extension owns is not PostGIS's.
        var lookalike = Geometry with { Extension = null };
        Assert.Equal("type public.geometry is not PostGIS's: no extension postgis owns it (create the extension postgis in this database and give the column its type)",
            SupportedTypes.WhyUnsupported(lookalike.Oid, new TypeRegistry([lookalike], [])));
    }

    /// <summary>Values PostGIS 3.3 does not write but the format allows: a negative SRID, a polygon whose first ring is
    /// empty (sent as an empty polygon, as liblwgeom does), a geodetic value with a box of x, y, z.</summary>
    [Fact]
    public void Hand_built_values_convert_as_liblwgeom_sends_them()
    {
        // SRID -2 (0x1FFFFE in 21 bits), POINT(1 2), version 2, no box.
        var negative = Serialized([0x1F, 0xFF, 0xFE, 0x40], [1u, 1], Doubles(1, 2));
        Assert.Equal("0101000020FEFFFFFF000000000000F03F0000000000000040", Send("geometry", negative));

        // POLYGON with two rings, the first empty: counts 0 and 1, no padding (even), one point.
        var firstRingEmpty = Serialized([0, 0, 0, 0x40], [3, 2, 0, 1], Doubles(5, 6));
        Assert.Equal("010300000000000000", Send("geometry", firstRingEmpty));

        // Geodetic ZM point with a box: six float4s (x, y, z of the unit sphere), not eight.
        var geodetic = SerializedWith([0, 0x10, 0xE6, 0x4F], [.. new byte[24], .. U32(1), .. U32(1)], Doubles(1, 2, 3, 4));
        Assert.Equal("01010000E0E6100000" + "000000000000F03F" + "0000000000000040" + "0000000000000840" + "0000000000001040", Send("geography", geodetic));
    }

    [Fact]
    public void Nurbs_curves_and_impossible_members_are_refused_naming_the_type()
    {
        var nurbs = Serialized([0, 0, 0, 0x40], [16, 0]);
        Assert.Contains("geometry type 16 (nurbscurve) is not supported", Assert.Throws<DatumFormatException>(() => Send("geometry", nurbs)).Message);
        var lineInMultipoint = Serialized([0, 0, 0, 0x40], [4, 1, 2, 0]);
        Assert.Contains("a multipoint holding a linestring", Assert.Throws<DatumFormatException>(() => Send("geometry", lineInMultipoint)).Message);
        var trailing = Serialized([0, 0, 0, 0x40], [1, 0, 0]);
        Assert.Contains("4 bytes follow the geometry", Assert.Throws<DatumFormatException>(() => Send("geometry", trailing)).Message);
        var tooManyPoints = Serialized([0, 0, 0, 0x40], [2, 0x7FFFFFFF]);
        Assert.Contains("2147483647 points of 2 ordinates do not fit", Assert.Throws<DatumFormatException>(() => Send("geometry", tooManyPoints)).Message);
    }

    /// <summary>Every captured value cut short, and with bytes flipped at random: a typed error or a conversion, never
    /// an out-of-range access.</summary>
    [Fact]
    public void Damaged_values_give_typed_errors_only()
    {
        var values = PostgisFixture.Values.Where(v => v.Send is not null && v.Datum.Length < 2000).ToList();
        var typedErrors = 0;
        foreach (var value in values)
        {
            for (var length = 0; length < value.Payload.Length; length++)
            {
                var cut = value.Payload[..length].ToArray();
                Assert.Throws<DatumFormatException>(() => Send(value.Type, cut));
                typedErrors++;
            }
        }

        var random = new Random(20261206);
        for (var round = 0; round < 20_000; round++)
        {
            var value = values[random.Next(values.Count)];
            var damaged = value.Payload.ToArray();
            for (var flips = random.Next(1, 4); flips > 0; flips--) damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            try
            {
                Send(value.Type, damaged);
            }
            catch (DatumFormatException)
            {
                typedErrors++;
            }
        }

        Assert.True(typedErrors > 3000, $"{typedErrors} typed errors");
    }

    private static PostgisFixture.Value Find(string type, int id) => PostgisFixture.Values.Single(v => v.Type == type && v.Id == id);

    private static string Send(string type, ReadOnlySpan<byte> payload)
    {
        var output = new SendBuffer();
        Converter.Write(Converter.PlanFor(type == "geometry" ? Geometry.Oid : Geography.Oid), payload, output);
        return Convert.ToHexString(output.WrittenSpan);
    }

    private static byte[] Serialized(byte[] header, uint[] words, byte[]? points = null) =>
        [.. header, .. words.SelectMany(U32), .. points ?? []];

    private static byte[] SerializedWith(byte[] header, byte[] rest, byte[] points) => [.. header, .. rest, .. points];

    private static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    private static byte[] Doubles(params double[] values) =>
        values.SelectMany(v => BitConverter.GetBytes(v)).ToArray();
}
