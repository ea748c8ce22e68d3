using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Toast;

namespace DataSync.Wal.Values;

/// <summary>
/// Reads a stored array (src/include/utils/array.h): dimension count, offset of the data when there is a null bitmap
/// (0 otherwise), element type, the dimensions, their lower bounds, the bitmap, padding to 8, then the non-null
/// elements one after another, each aligned to the element type's alignment. Checks the header on construction and
/// each element's bounds as it is reached; hands out the elements in storage order (the last subscript varying fastest).
/// </summary>
/// <remarks>
/// The stored offsets count from a 4-byte varlena header. A small array stored with a 1-byte header keeps that internal
/// layout, so positions are computed as payload index + 4.
/// </remarks>
internal ref struct StoredArray
{
    private const int HeaderSize = 4;
    private const int BoundsAt = 12;

    /// <summary>At most this many dimensions (MAXDIM).</summary>
    public const int MaxDimensions = 6;

    private readonly ReadOnlySpan<byte> _payload;
    private readonly ReadOnlySpan<byte> _bitmap;
    private readonly TypePlan _plan;
    private readonly TypePlan _element;
    private readonly int _alignment;
    private int _position; // in array coordinates: payload index + HeaderSize
    private int _index;

    public StoredArray(TypePlan plan, ReadOnlySpan<byte> payload)
    {
        _plan = plan;
        _payload = payload;
        _element = plan.Element ?? throw new UnsupportedTypeException($"{plan.Name}: array plan without an element type");
        if (payload.Length < BoundsAt) throw Corrupt($"a value of {payload.Length} bytes is shorter than the array header");

        Dimensions = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var dataOffset = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        ElementType = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        if (Dimensions is < 0 or > MaxDimensions) throw Corrupt($"{Dimensions} dimensions");
        if (payload.Length < BoundsAt + 8 * Dimensions) throw Corrupt("dimensions run past the value");

        var items = 1L;
        for (var d = 0; d < Dimensions; d++)
        {
            var length = Length(d);
            if (length < 0) throw Corrupt($"dimension {d + 1} has length {length}");
            items *= length;
            if (items > int.MaxValue) throw Corrupt("too many elements");
        }

        Items = Dimensions == 0 ? 0 : (int)items;
        HasNulls = dataOffset != 0;
        var bitmapAt = BoundsAt + 8 * Dimensions;
        if (HasNulls)
        {
            var bitmapBytes = (Items + 7) / 8;
            if (bitmapAt + bitmapBytes > payload.Length || dataOffset - HeaderSize < bitmapAt + bitmapBytes || dataOffset - HeaderSize > payload.Length)
                throw Corrupt($"null bitmap or data offset {dataOffset} does not fit");
            _bitmap = payload.Slice(bitmapAt, bitmapBytes);
            _position = dataOffset;
        }
        else
        {
            _position = TypeAlignment.Align(bitmapAt + HeaderSize, 8);
        }

        _alignment = TypeAlignment.ToBytes(_element.Alignment);
    }

    public int Dimensions { get; }

    /// <summary>The stored element type OID (production's).</summary>
    public uint ElementType { get; }

    /// <summary>Whether the array has a null bitmap (the has-nulls flag the server sends).</summary>
    public bool HasNulls { get; }

    /// <summary>Elements in all, NULLs included.</summary>
    public int Items { get; }

    public readonly int Length(int dimension) => BinaryPrimitives.ReadInt32LittleEndian(_payload[(BoundsAt + 4 * dimension)..]);

    public readonly int LowerBound(int dimension) => BinaryPrimitives.ReadInt32LittleEndian(_payload[(BoundsAt + 4 * (Dimensions + dimension))..]);

    /// <summary>
    /// The next element: false for a NULL, else true with <paramref name="datum"/> the element as the value converter
    /// takes it (a fixed-length type's bytes, a varlena's payload). Call exactly <see cref="Items"/> times.
    /// </summary>
    public bool Next(out ReadOnlySpan<byte> datum)
    {
        var i = _index++;
        if (!_bitmap.IsEmpty && (_bitmap[i >> 3] & (1 << (i & 7))) == 0)
        {
            datum = default;
            return false;
        }

        _position = TypeAlignment.Align(_position, _alignment);
        var at = _position - HeaderSize;
        if (at >= _payload.Length) throw Corrupt($"element {i + 1} starts past the end of the value");
        if (_element.Length > 0)
        {
            if (at + _element.Length > _payload.Length) throw Corrupt($"element {i + 1} runs past the end of the value");
            datum = _payload.Slice(at, _element.Length);
            _position += _element.Length;
            return true;
        }

        if (_element.Length != -1) throw new UnsupportedTypeException($"{_plan.Name}: element type {_element.Name} has length {_element.Length}");
        try
        {
            var stored = _payload[at..(at + Varlena.TotalSize(_payload[at..]))];
            datum = Varlena.Payload(stored);
            _position += stored.Length;
            return true;
        }
        catch (VarlenaFormatException e)
        {
            throw Corrupt($"element {i + 1}: {e.Message}");
        }
    }

    private readonly DatumFormatException Corrupt(string what) => new($"{_plan.Name}: {what}");
}
