using System.Globalization;

namespace DataSync.Wal;

/// <summary>
/// A WAL position (PostgreSQL's XLogRecPtr): a byte offset into the infinite WAL stream of a cluster.
/// Printed as PostgreSQL does, high and low 32 bits in upper-case hex without padding (<c>0/44ACD38</c>).
/// </summary>
/// <remarks>
/// Kept here rather than using Npgsql's NpgsqlLogSequenceNumber so the WAL library stays free of a
/// database client; Core's LsnConversions converts between the two at its edge, so pg_lsn values never travel as text.
/// </remarks>
public readonly record struct Lsn(ulong Value) : IComparable<Lsn>
{
    public static readonly Lsn Invalid = new(0);

    public bool IsValid => Value != 0;

    public int CompareTo(Lsn other) => Value.CompareTo(other.Value);

    public static bool operator <(Lsn left, Lsn right) => left.Value < right.Value;
    public static bool operator >(Lsn left, Lsn right) => left.Value > right.Value;
    public static bool operator <=(Lsn left, Lsn right) => left.Value <= right.Value;
    public static bool operator >=(Lsn left, Lsn right) => left.Value >= right.Value;

    public static Lsn operator +(Lsn lsn, ulong bytes) => new(lsn.Value + bytes);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{(uint)(Value >> 32):X}/{(uint)Value:X}");

    public static Lsn Parse(string text) =>
        TryParse(text, out var lsn) ? lsn : throw new FormatException($"'{text}' is not an LSN of the form X/Y (hex)");

    public static bool TryParse(ReadOnlySpan<char> text, out Lsn lsn)
    {
        lsn = Invalid;
        var slash = text.IndexOf('/');
        if (slash <= 0 || slash == text.Length - 1) return false;
        if (!uint.TryParse(text[..slash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high) ||
            !uint.TryParse(text[(slash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low))
            return false;
        lsn = new Lsn(((ulong)high << 32) | low);
        return true;
    }
}
