using DataSync.Wal.Catalog;
using DataSync.Wal.Toast;

namespace DataSync.Wal.Values;

/// <summary>
/// Range types (src/include/utils/rangetypes.h, rangetypes.c). Stored: the range type's OID, then the
/// lower bound's value when there is one, the upper bound's when there is one, and a flags byte as the
/// value's last byte. Sent: the flags byte, then each bound present as a length-prefixed send value of
/// the subtype.
/// </summary>
/// <remarks>
/// A bound is present unless the range is empty or that bound is infinite (or NULL, which PostgreSQL never
/// stores). Bound values are laid out as in a heap tuple, with offsets counted from a 4-byte varlena header:
/// a fixed-length subtype aligned to its alignment, a varlena subtype (numeric) kept with a 1-byte header
/// when short (then unaligned), else a 4-byte header aligned like the type, never compressed or external.
/// Discrete ranges (int4, int8, date) are stored already canonical (<c>[a,b)</c>), so the flags are sent as stored.
/// </remarks>
public static class RangeSendConverter
{
    private const int HeaderSize = 4;
    private const byte Empty = 0x01;
    private const byte LowerInfinite = 0x08;
    private const byte UpperInfinite = 0x10;
    private const byte LowerNull = 0x20;
    private const byte UpperNull = 0x40;

    public static void Write(ValueConverter converter, TypePlan plan, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        var subtype = plan.Element ?? throw new UnsupportedTypeException($"{plan.Name}: range plan without a subtype");
        if (payload.Length < 5) throw Corrupt(plan, $"a value of {payload.Length} bytes is shorter than type OID and flags");
        var flags = payload[^1];
        output.WriteByte(flags);
        var bounds = payload[..^1];
        var position = 8; // after the 4-byte header and the type OID
        if (HasLower(flags)) position = WriteBound(converter, plan, subtype, bounds, position, "lower", output);
        if (HasUpper(flags)) position = WriteBound(converter, plan, subtype, bounds, position, "upper", output);
        if (position - HeaderSize != bounds.Length)
            throw Corrupt(plan, $"{bounds.Length - (position - HeaderSize)} bytes after the bounds flags 0x{flags:X2} announce");
    }

    public static bool HasLower(byte flags) => (flags & (Empty | LowerInfinite | LowerNull)) == 0;

    public static bool HasUpper(byte flags) => (flags & (Empty | UpperInfinite | UpperNull)) == 0;

    /// <summary>
    /// Writes the bound value at <paramref name="position"/> (in varlena coordinates: index into
    /// <paramref name="values"/> + 4) as a length-prefixed send value; returns the position after it.
    /// </summary>
    internal static int WriteBound(ValueConverter converter, TypePlan plan, TypePlan subtype, ReadOnlySpan<byte> values, int position,
        string which, SendBuffer output)
    {
        var at = position - HeaderSize;
        if (at < 0 || at >= values.Length) throw Corrupt(plan, $"the {which} bound starts past the end of the value");
        var alignment = TypeAlignment.ToBytes(subtype.Alignment);
        var lengthAt = output.BeginField();
        if (subtype.Length > 0)
        {
            position = TypeAlignment.Align(position, alignment);
            at = position - HeaderSize;
            if (at + subtype.Length > values.Length) throw Corrupt(plan, $"the {which} bound runs past the end of the value");
            converter.Write(subtype, values.Slice(at, subtype.Length), output);
            position += subtype.Length;
        }
        else if (subtype.Length == -1)
        {
            // A zero byte is padding before a 4-byte header; a short header is never aligned.
            if (values[at] == 0)
            {
                position = TypeAlignment.Align(position, alignment);
                at = position - HeaderSize;
                if (at >= values.Length) throw Corrupt(plan, $"the {which} bound starts past the end of the value");
            }

            try
            {
                var stored = values[at..(at + Varlena.TotalSize(values[at..]))];
                converter.Write(subtype, Varlena.Payload(stored), output);
                position += stored.Length;
            }
            catch (VarlenaFormatException e)
            {
                throw Corrupt(plan, $"{which} bound: {e.Message}");
            }
        }
        else
        {
            throw new UnsupportedTypeException($"{plan.Name}: subtype {subtype.Name} has length {subtype.Length}");
        }

        output.EndField(lengthAt);
        return position;
    }

    internal static DatumFormatException Corrupt(TypePlan plan, string what) => new($"{plan.Name}: {what}");
}
