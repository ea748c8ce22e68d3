namespace DataSync.Wal.Catalog;

/// <summary>PostgreSQL's alignment codes (typalign/attalign) and rounding to them.</summary>
public static class TypeAlignment
{
    public static int ToBytes(char code) => code switch
    {
        'c' => 1,
        's' => 2,
        'i' => 4,
        'd' => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "alignment code must be one of c, s, i, d"),
    };

    public static int Align(int offset, int alignment) => (offset + alignment - 1) & ~(alignment - 1);
}
