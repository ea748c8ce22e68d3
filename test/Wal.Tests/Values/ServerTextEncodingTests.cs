using System.Text;
using DataSync.Wal.Catalog;
using DataSync.Wal.Values;

namespace DataSync.Wal.Tests.Values;

/// <summary>Text stored in a production encoding other than UTF8 reaches COPY as UTF8; bytea and "char" stay as stored.</summary>
public sealed class ServerTextEncodingTests
{
    private static readonly ValueConverter Latin1 = new(new TypeRegistry([], []), ServerTextEncoding.For("LATIN1"));

    private static byte[] Send(ValueConverter converter, uint typeOid, byte[] datum)
    {
        var output = new SendBuffer();
        converter.Write(converter.PlanFor(typeOid), datum, output);
        return output.ToArray();
    }

    [Fact]
    public void Text_types_are_converted_and_bytes_are_not()
    {
        var stored = Encoding.Latin1.GetBytes("Grüße ÿ");
        foreach (var textType in new uint[] { 25, 1043, 1042, 114 })
            Assert.Equal("Grüße ÿ", Encoding.UTF8.GetString(Send(Latin1, textType, stored)));
        var name = new byte[64];
        stored.CopyTo(name, 0);
        Assert.Equal("Grüße ÿ", Encoding.UTF8.GetString(Send(Latin1, 19, name)));
        Assert.Equal(stored, Send(Latin1, 17, stored)); // bytea
        Assert.Equal([0xE9], Send(Latin1, 18, [0xE9])); // "char": one byte, unconverted by PostgreSQL too
        Assert.Equal(stored, Send(new ValueConverter(new TypeRegistry([], [])), 25, stored)); // UTF8 production: as stored
    }

    [Fact]
    public void Windows_code_pages_map_their_own_characters()
    {
        var converter = new ValueConverter(new TypeRegistry([], []), ServerTextEncoding.For("WIN1252"));
        Assert.Equal("€ – “x”", Encoding.UTF8.GetString(Send(converter, 25, [0x80, 0x20, 0x96, 0x20, 0x93, 0x78, 0x94])));
    }

    [Fact]
    public void Unconvertible_encodings_are_refused_with_the_reason()
    {
        Assert.Null(ServerTextEncoding.For("UTF8"));
        Assert.Contains("SQL_ASCII: its text bytes carry no declared encoding", Assert.Throws<UnsupportedEncodingException>(() => ServerTextEncoding.For("SQL_ASCII")).Message);
        Assert.Contains("encoding EUC_JP, which DataSync cannot convert", Assert.Throws<UnsupportedEncodingException>(() => ServerTextEncoding.For("EUC_JP")).Message);
    }
}
