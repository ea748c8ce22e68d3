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

    private static readonly ValueConverter Converter = new(new TypeRegistry([Mood, Int4Array, PosInt], [new EnumLabel(60000, 50000, 1, "happy")]));

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
        Assert.Throws<UnsupportedTypeException>(() => Converter.PlanFor(600));
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

        Assert.Equal(Enum.GetValues<SendForm>().Order(), SupportedTypes.Types.Values.Select(t => t.Form).Distinct().Order());
        Assert.Equal(31, SupportedTypes.Types.Count);
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
