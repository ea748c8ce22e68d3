using DataSync.Wal.Catalog;
using DataSync.Wal.Values;

namespace DataSync.Wal.Tests.Values;

/// <summary>Conversions checked against byte dumps from an 18.1 server (pageinspect and COPY BINARY), see
/// docs/reference pg18-wal-format.md §6; the live differential tests cover the rest.</summary>
public sealed class ValueConverterTests
{
    private static readonly TypeDescriptor Mood = new(50000, "public", "mood", 'e', 4, true, 'i', 'p', 0, 0, 0, false);
    private static readonly TypeDescriptor Int4Array = new(1007, "pg_catalog", "_int4", 'b', -1, false, 'i', 'x', 23, 0, 0, true);
    private static readonly TypeDescriptor PosInt = new(50001, "public", "posint", 'd', 4, true, 'i', 'p', 0, 23, 0, false);
    private static readonly TypeDescriptor TextRange = new(50002, "public", "textrange", 'r', -1, false, 'i', 'x', 0, 0, 0, false, 25);
    private static readonly TypeDescriptor TextMultirange = new(50003, "public", "textmultirange", 'm', -1, false, 'i', 'x', 0, 0, 0, false, 50002);
    private static readonly TypeDescriptor MoodRange = new(50004, "public", "moodrange", 'r', -1, false, 'i', 'x', 0, 0, 0, false, 50000);

    private static readonly ValueConverter Converter = new(new TypeRegistry([Mood, Int4Array, PosInt, TextRange, TextMultirange, MoodRange],
        [new EnumLabel(60000, 50000, 1, "happy"), new EnumLabel(60001, 50000, 2, "sad")]));

    private static string Send(uint typeOid, byte[] datum)
    {
        var output = new SendBuffer();
        Converter.Write(Converter.PlanFor(typeOid), datum, output);
        return Convert.ToHexString(output.WrittenSpan);
    }

    private static string Text(ReadOnlySpan<byte> bytes) => System.Text.Encoding.UTF8.GetString(bytes);

    [Fact]
    public void Numeric_short_form_becomes_the_send_form_and_its_text()
    {
        // 12345.678: header 0x8181 (short, dscale 3, weight 1), digits 1, 2345, 6780.
        byte[] payload = [0x81, 0x81, 0x01, 0x00, 0x29, 0x09, 0x7c, 0x1a];
        Assert.Equal("0003" + "0001" + "0000" + "0003" + "0001" + "0929" + "1A7C", Send(1700, payload));
        var text = new SendBuffer();
        NumericTextWriter.Write(NumericValue.Read(payload), text);
        Assert.Equal("12345.678", Text(text.WrittenSpan));
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0xC0 }, "0000" + "0000" + "C000" + "0000", "NaN")]
    [InlineData(new byte[] { 0x00, 0xD0 }, "0000" + "0000" + "D000" + "0020", "Infinity")]
    [InlineData(new byte[] { 0x00, 0xF0 }, "0000" + "0000" + "F000" + "0020", "-Infinity")]
    [InlineData(new byte[] { 0x00, 0x80 }, "0000" + "0000" + "0000" + "0000", "0")]
    // Long form: sign negative, dscale 10, weight -2, one digit 1 = -0.0000000100.
    [InlineData(new byte[] { 0x0A, 0x40, 0xFE, 0xFF, 0x01, 0x00 }, "0001" + "FFFE" + "4000" + "000A" + "0001", "-0.0000000100")]
    public void Numeric_specials_and_long_form(byte[] payload, string send, string text)
    {
        Assert.Equal(send, Send(1700, payload));
        var output = new SendBuffer();
        NumericTextWriter.Write(NumericValue.Read(payload), output);
        Assert.Equal(text, Text(output.WrittenSpan));
    }

    [Fact]
    public void Jsonb_example_prints_like_the_server()
    {
        // {"a": 1, "bb": [true, "x"]} as pageinspect showed it (payload after the 1-byte header).
        var payload = Convert.FromHexString(
            "02000020" + "01000080" + "02000000" + "09000010" + "0d000050" + "61" + "6262" + "00" +
            "2000000000800100" + "02000040" + "000000b0" + "01000000" + "78");
        var output = new SendBuffer();
        Converter.Write(Converter.PlanFor(3802), payload, output);
        Assert.Equal(1, output.WrittenSpan[0]);
        Assert.Equal("{\"a\": 1, \"bb\": [true, \"x\"]}", Text(output.WrittenSpan[1..]));
    }

    [Fact]
    public void Short_header_array_is_read_with_four_byte_header_offsets()
    {
        // {1,2}: ndim 1, no bitmap, element int4, dim 2, lbound 1, elements at array offset 24.
        var payload = Convert.FromHexString("01000000" + "00000000" + "17000000" + "02000000" + "01000000" + "01000000" + "02000000");
        Assert.Equal("00000001" + "00000000" + "00000017" + "00000002" + "00000001" + "00000004" + "00000001" + "00000004" + "00000002",
            Send(1007, payload));
    }

    [Fact]
    public void Inet_cidr_enum_domain_and_fixed_types()
    {
        Assert.Equal("0218000" + "4C0A8010A", Send(869, Convert.FromHexString("0218C0A8010A")));
        Assert.Equal("02080104" + "0A000000", Send(650, Convert.FromHexString("02080A000000")));
        Assert.Equal(Convert.ToHexString("happy"u8), Send(50000, BitConverter.GetBytes(60000u)));
        Assert.Equal("0000002A", Send(50001, BitConverter.GetBytes(42)));
        Assert.Equal("FFFFFFFFFFFFFFFE", Send(20, BitConverter.GetBytes(-2L)));
        // interval 1 s, 3 days, 14 months; timetz 00:00:01 at +05:30 (stored as -19800).
        Assert.Equal("00000000000F4240" + "00000003" + "0000000E",
            Send(1186, [.. BitConverter.GetBytes(1_000_000L), .. BitConverter.GetBytes(3), .. BitConverter.GetBytes(14)]));
        Assert.Equal("00000000000F4240" + "FFFFB2A8", Send(1266, [.. BitConverter.GetBytes(1_000_000L), .. BitConverter.GetBytes(-19800)]));
        var name = new byte[64];
        "ab"u8.CopyTo(name);
        Assert.Equal("6162", Send(19, name));
        Assert.Equal("0000000A" + "AAC0", Send(1560, [10, 0, 0, 0, 0xAA, 0xC0]));
    }

    [Fact]
    public void Bad_values_are_typed_errors_naming_the_type()
    {
        Assert.Contains("int8", Assert.Throws<DatumFormatException>(() => Send(20, new byte[4])).Message, StringComparison.Ordinal);
        Assert.Contains("public.mood", Assert.Throws<DatumFormatException>(() => Send(50000, BitConverter.GetBytes(1u))).Message, StringComparison.Ordinal);
        Assert.Contains("varbit", Assert.Throws<DatumFormatException>(() => Send(1562, [20, 0, 0, 0, 1])).Message, StringComparison.Ordinal);
        Assert.Throws<DatumFormatException>(() => Send(869, [7, 32, 1, 2, 3, 4]));
        Assert.Throws<UnsupportedTypeException>(() => Converter.PlanFor(1033));
    }

    [Fact]
    public void Every_supported_base_type_has_a_plan_and_is_reported_supported()
    {
        var empty = new ValueConverter(new TypeRegistry([], []));
        foreach (var (oid, type) in SupportedTypes.Types)
        {
            var plan = empty.PlanFor(oid);
            Assert.Equal((TypePlanKind.Base, type.Form, type.Length), (plan.Kind, plan.Form, plan.Length));
            Assert.Null(SupportedTypes.WhyUnsupported(oid, new TypeRegistry([], [])));
        }

        Assert.Equal(Enum.GetValues<SendForm>().Order(),
            SupportedTypes.Types.Values.Select(t => t.Form).Concat(SupportedTypes.ExtensionTypes.Values).Distinct().Order());
        Assert.Equal(71, SupportedTypes.Types.Count);
    }

    [Fact]
    public void Ranges_send_their_flags_then_the_bounds_present()
    {
        // int4range [1,10): type OID, lower, upper, flags (lower inclusive).
        byte[] bounded = [.. BitConverter.GetBytes(3904u), .. BitConverter.GetBytes(1), .. BitConverter.GetBytes(10), 0x02];
        Assert.Equal("02" + "00000004" + "00000001" + "00000004" + "0000000A", Send(3904, bounded));
        // int8range [5,): the upper bound infinite, so absent; the lower right after the OID (varlena offset 8).
        byte[] lowerOnly = [.. BitConverter.GetBytes(3926u), .. BitConverter.GetBytes(5L), 0x12];
        Assert.Equal("12" + "00000008" + "0000000000000005", Send(3926, lowerOnly));
        // empty: flags only.
        Assert.Equal("01", Send(3912, [.. BitConverter.GetBytes(3912u), 0x01]));
        // Bytes left over after the bounds the flags announce are corruption, not ignored.
        Assert.Throws<DatumFormatException>(() => Send(3904, [.. BitConverter.GetBytes(3904u), 0, 0, 0, 0, 0x01]));
    }

    [Fact]
    public void Ranges_made_with_create_type_convert_through_their_subtype()
    {
        // textrange [a,bc): short varlena bounds, unaligned.
        byte[] text = [.. BitConverter.GetBytes(50002u), 0x05, (byte)'a', 0x07, (byte)'b', (byte)'c', 0x02];
        Assert.Equal("02" + "00000001" + "61" + "00000002" + "6263", Send(50002, text));
        // textmultirange {[a,)}: count 1, no items, one flags byte, block aligned to 4.
        byte[] multi = [.. BitConverter.GetBytes(50003u), .. BitConverter.GetBytes(1u), 0x12, 0, 0, 0, 0x05, (byte)'a'];
        Assert.Equal("00000001" + "00000006" + "12" + "00000001" + "61", Send(50003, multi));
        // moodrange [happy,sad]: enum bounds are sent as their labels.
        byte[] mood = [.. BitConverter.GetBytes(50004u), .. BitConverter.GetBytes(60000u), .. BitConverter.GetBytes(60001u), 0x06];
        Assert.Equal("06" + "00000005" + Convert.ToHexString("happy"u8) + "00000003" + Convert.ToHexString("sad"u8), Send(50004, mood));

        var registry = new TypeRegistry([TextRange with { RangeElementOid = 1033 }, TextMultirange with { RangeElementOid = 0 }], []);
        Assert.Equal("range type public.textrange: type OID 1033 is not in the catalog", SupportedTypes.WhyUnsupported(50002, registry));
        Assert.Equal("range type public.textmultirange: its subtype is not in the catalog", SupportedTypes.WhyUnsupported(50003, registry));
        Assert.Null(SupportedTypes.WhyUnsupported(50003, new TypeRegistry([TextRange, TextMultirange], [])));
    }

    [Fact]
    public void Multiranges_send_the_count_then_each_range()
    {
        // int4multirange {[1,3),[5,)}: OID, count 2, one item (block length 8), flags, blocks from offset 4+8+4+2 → 20.
        byte[] value =
        [
            .. BitConverter.GetBytes(4451u), .. BitConverter.GetBytes(2u), .. BitConverter.GetBytes(8u), 0x02, 0x12, 0, 0,
            .. BitConverter.GetBytes(1), .. BitConverter.GetBytes(3), .. BitConverter.GetBytes(5),
        ];
        Assert.Equal("00000002" + "00000011" + "02" + "00000004" + "00000001" + "00000004" + "00000003" +
            "00000009" + "12" + "00000004" + "00000005", Send(4451, value));
        Assert.Equal("00000000", Send(4451, [.. BitConverter.GetBytes(4451u), 0, 0, 0, 0]));
        // A count no value of this size can hold.
        Assert.Throws<DatumFormatException>(() => Send(4451, [.. BitConverter.GetBytes(4451u), 0xFF, 0xFF, 0, 0]));
    }

    [Fact]
    public void Tsvector_sends_each_lexeme_with_its_positions()
    {
        // 'a:1 bc': entries (has positions, length 1, offset 0) and (no positions, length 2, offset 6);
        // the strings: a, padding to even, 1 position, position 1, then bc.
        byte[] value =
        [
            .. BitConverter.GetBytes(2), .. BitConverter.GetBytes(1u | 1 << 1 | 0 << 12), .. BitConverter.GetBytes(0u | 2 << 1 | 6 << 12),
            (byte)'a', 0, 1, 0, 1, 0, (byte)'b', (byte)'c',
        ];
        Assert.Equal("00000002" + "6100" + "0001" + "0001" + "626300" + "0000", Send(3614, value));
        Assert.Throws<DatumFormatException>(() => Send(3614, [.. BitConverter.GetBytes(3), 0, 0, 0, 0]));
    }

    [Fact]
    public void Tsquery_sends_operators_and_operands_in_stored_order()
    {
        // <3> then ab:*B (weight bit 2, prefix): 12-byte items, then the NUL-terminated word at offset 0.
        byte[] value =
        [
            .. BitConverter.GetBytes(2),
            2, 4, 3, 0, 1, 0, 0, 0, 0, 0, 0, 0,
            1, 4, 1, 0, 0, 0, 0, 0, .. BitConverter.GetBytes(2u | 0u << 12),
            (byte)'a', (byte)'b', 0,
        ];
        Assert.Equal("00000002" + "02" + "04" + "0003" + "01" + "04" + "01" + "616200", Send(3615, value));
        value[4] = 9;
        Assert.Throws<DatumFormatException>(() => Send(3615, value));
    }

    [Fact]
    public void Geometric_values_send_their_float8s_big_endian()
    {
        // point (1,2); path [(1,2)] open: count, closed flag, padding, the point; polygon ((1,2)): count, box, point.
        byte[] point = [.. BitConverter.GetBytes(1.0), .. BitConverter.GetBytes(2.0)];
        Assert.Equal("3FF0000000000000" + "4000000000000000", Send(600, point));
        Assert.Equal("00" + "00000001" + "3FF0000000000000" + "4000000000000000",
            Send(602, [.. BitConverter.GetBytes(1), .. BitConverter.GetBytes(0), 0, 0, 0, 0, .. point]));
        Assert.Equal("01" + "00000001" + "3FF0000000000000" + "4000000000000000",
            Send(602, [.. BitConverter.GetBytes(1), .. BitConverter.GetBytes(1), 0, 0, 0, 0, .. point]));
        Assert.Equal("00000001" + "3FF0000000000000" + "4000000000000000",
            Send(604, [.. BitConverter.GetBytes(1), .. point, .. point, .. point]));
        // A point count the value cannot hold.
        Assert.Throws<DatumFormatException>(() => Send(604, [.. BitConverter.GetBytes(2), .. point, .. point, .. point]));
        Assert.Throws<DatumFormatException>(() => Send(718, point));
    }

    [Theory]
    [InlineData("<a/>", "<a/>")]
    [InlineData("\n<a/>", "<a/>")]
    [InlineData("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a/>", "<a/>")]
    [InlineData("<?xml version='1.1'?><a/>", "<?xml version=\"1.1\"?><a/>")]
    [InlineData("<?xml version = \"1.0\"  standalone = 'no' ?>\n<a/>", "<?xml version=\"1.0\" standalone=\"no\"?>\n<a/>")]
    [InlineData("<?xml-stylesheet href=\"s\"?><a/>", "<?xml-stylesheet href=\"s\"?><a/>")]
    [InlineData("<?xml version=\"1.0\"encoding=\"UTF-8\"?><a/>", "<?xml version=\"1.0\"encoding=\"UTF-8\"?><a/>")]
    public void Xml_declarations_are_reprinted_as_xml_send_does(string stored, string sent) =>
        Assert.Equal(sent, Text(Convert.FromHexString(Send(142, System.Text.Encoding.UTF8.GetBytes(stored)))));

    [Fact]
    public void Snapshots_send_count_xmin_xmax_and_the_in_progress_ids()
    {
        byte[] value = [.. BitConverter.GetBytes(1u), .. BitConverter.GetBytes(100L), .. BitConverter.GetBytes(200L), .. BitConverter.GetBytes(150L)];
        Assert.Equal("00000001" + "0000000000000064" + "00000000000000C8" + "0000000000000096", Send(5038, value));
        Assert.Throws<DatumFormatException>(() => Send(2970, value[..^8]));
    }

    [Fact]
    public void Tid_sends_the_block_number_whole_and_the_offset()
    {
        // Block 0x00010002 stored as its high half then its low half, offset 3.
        Assert.Equal("00010002" + "0003", Send(27, [1, 0, 2, 0, 3, 0]));
    }

    [Fact]
    public void Copy_stream_framing()
    {
        var output = new SendBuffer();
        CopyBinaryFormat.WriteHeader(output);
        CopyBinaryFormat.WriteTrailer(output);
        Assert.Equal("5047434F50590AFF0D0A00" + "00000000" + "00000000" + "FFFF", Convert.ToHexString(output.WrittenSpan));
    }
}
