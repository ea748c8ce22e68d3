namespace DataSync.Wal.Values;

/// <summary>inet and cidr (network.c): stored as family, netmask bits and 4 or 16 address bytes;
/// sent as family, bits, a cidr flag (known from the column type, not the value), the address size
/// and the address.</summary>
public static class InetSendConverter
{
    private const byte FamilyIPv4 = 2;
    private const byte FamilyIPv6 = 3;

    public static void Write(ReadOnlySpan<byte> payload, bool isCidr, SendBuffer output)
    {
        var type = isCidr ? "cidr" : "inet";
        if (payload.Length < 2) throw new DatumFormatException($"{type}: a value of {payload.Length} bytes lacks family and bits");
        var family = payload[0];
        var expected = family switch
        {
            FamilyIPv4 => 4,
            FamilyIPv6 => 16,
            _ => throw new DatumFormatException($"{type}: unknown address family {family}"),
        };
        if (payload.Length != 2 + expected)
            throw new DatumFormatException($"{type}: family {family} needs {expected} address bytes, the value has {payload.Length - 2}");
        output.WriteByte(family);
        output.WriteByte(payload[1]);
        output.WriteByte(isCidr ? (byte)1 : (byte)0);
        output.WriteByte((byte)expected);
        output.WriteBytes(payload[2..]);
    }
}
