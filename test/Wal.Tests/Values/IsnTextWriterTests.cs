using System.Text;
using DataSync.Wal.Catalog;
using DataSync.Wal.Values;

namespace DataSync.Wal.Tests.Values;

/// <summary>
/// The isn types' text (contrib/isn/isn.c: the 13-digit number shifted left by one, the low bit flagging a wrong check
/// digit at input) and where such text-carried types are refused; <see cref="IsnDifferentialTests"/> checks the text
/// against a live server.
/// </summary>
public sealed class IsnTextWriterTests
{
    private static readonly TypeDescriptor Isbn13 = new(61000, "public", "isbn13", 'b', 8, true, 'd', 'p', 0, 0, 0, false, Extension: "isn");
    private static readonly TypeDescriptor Isbn13Array = new(61001, "public", "_isbn13", 'b', -1, false, 'd', 'x', 61000, 0, 0, true);
    private static readonly TypeDescriptor Book = new(61002, "public", "book", 'd', 8, true, 'd', 'p', 0, 61000, 0, false);
    private static readonly TypeDescriptor BookRange = new(61003, "public", "bookrange", 'r', -1, false, 'd', 'x', 0, 0, 0, false, 61000);
    private static readonly TypeDescriptor Shelf = new(61004, "public", "shelf", 'c', -1, false, 'd', 'x', 0, 0, 61005, false,
        Attributes: [Attribute(1, "n", 23, 4, 'i'), Attribute(2, "code", 61002, 8, 'd')]);

    private static readonly TypeRegistry Types = new([Isbn13, Isbn13Array, Book, BookRange, Shelf], []);
    private static readonly ValueConverter Converter = new(Types);

    private static ColumnDescriptor Attribute(short attNum, string name, uint type, short length, char alignment) =>
        new(attNum, name, type, -1, length, alignment, length > 0, 'p', false, false, false, null, '\0');

    private static string Write(uint type, ulong stored)
    {
        var output = new SendBuffer();
        Converter.Write(Converter.PlanFor(type), BitConverter.GetBytes(stored), output);
        return Encoding.ASCII.GetString(output.WrittenSpan);
    }

    [Theory]
    [InlineData(9780393040029UL << 1, "9780393040029")]
    [InlineData((9780393040029UL << 1) | 1, "9780393040029!")]
    [InlineData(0UL, "0000000000000")]
    [InlineData((12345678905UL << 1) | 1, "0012345678905!")]
    [InlineData(9999999999994UL << 1, "9999999999994")]
    public void Values_print_as_thirteen_digits_and_the_flag(ulong stored, string text)
    {
        Assert.Equal(text, Write(Isbn13.Oid, stored));
        // A domain prints as its base type.
        Assert.Equal(text, Write(Book.Oid, stored));
        Assert.True(Converter.PlanFor(Book.Oid).IsText);
        Assert.True(Converter.PlanFor(Isbn13Array.Oid).IsText);
    }

    [Fact]
    public void Numbers_the_input_function_cannot_have_stored_are_typed_errors()
    {
        Assert.Contains("check digit", Assert.Throws<DatumFormatException>(() => Write(Isbn13.Oid, 9780393040021UL << 1)).Message, StringComparison.Ordinal);
        Assert.Contains("more than 13 digits", Assert.Throws<DatumFormatException>(() => Write(Isbn13.Oid, 10000000000000UL << 1)).Message, StringComparison.Ordinal);
        Assert.Contains("public.isbn13", Assert.Throws<DatumFormatException>(() =>
            Converter.Write(Converter.PlanFor(Isbn13.Oid), new byte[4], new SendBuffer())).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Isn_types_are_supported_as_columns_arrays_and_domains_but_not_inside_composites_or_ranges()
    {
        Assert.Null(SupportedTypes.WhyUnsupported(Isbn13.Oid, Types));
        Assert.Null(SupportedTypes.WhyUnsupported(Isbn13Array.Oid, Types));
        Assert.Null(SupportedTypes.WhyUnsupported(Book.Oid, Types));

        const string Composite = "composite type public.shelf, attribute code: type public.book has no binary send and receive functions: its values are " +
                                 "carried as text, which works for a column (or an array or domain over the type) but not inside a composite";
        Assert.Equal(Composite, SupportedTypes.WhyUnsupported(Shelf.Oid, Types));
        Assert.Equal(Composite, Assert.Throws<UnsupportedTypeException>(() => Converter.PlanFor(Shelf.Oid)).Message);

        const string Range = "range type public.bookrange: type public.isbn13 has no binary send and receive functions: its values are carried as text, " +
                             "which works for a column (or an array or domain over the type) but not inside a range";
        Assert.Equal(Range, SupportedTypes.WhyUnsupported(BookRange.Oid, Types));
        Assert.Equal(Range, Assert.Throws<UnsupportedTypeException>(() => Converter.PlanFor(BookRange.Oid)).Message);
    }
}
