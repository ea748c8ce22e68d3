using System.Buffers.Binary;
using DataSync.Wal.Catalog;
using DataSync.Wal.Toast;

namespace DataSync.Wal.Values;

/// <summary>
/// Arrays (src/include/utils/array.h, arrayfuncs.c array_send). Stored: dimension count, offset of
/// the data when there is a null bitmap (0 otherwise), element type, the dimensions, their lower
/// bounds, the bitmap, padding to 8, then the non-null elements one after another, each aligned to
/// the element type's alignment. Sent: dimension count, a has-nulls flag (the bitmap's presence,
/// as the server reports it), element type, (dimension, lower bound) pairs, then every element as
/// a length-prefixed send value (-1 for NULL).
/// </summary>
/// <remarks>
/// The stored offsets count from a 4-byte varlena header. A small array stored with a 1-byte header
/// keeps that internal layout, so positions are computed as payload index + 4.
/// </remarks>
public static class ArraySendConverter
{
    private const int HeaderSize = 4;
    private const int MaxDimensions = 6;

    public static void Write(ValueConverter converter, TypePlan plan, ReadOnlySpan<byte> payload, SendBuffer output)
    {
        var element = plan.Element ?? throw new UnsupportedTypeException($"{plan.Name}: array plan without an element type");
        if (payload.Length < 12) throw Corrupt(plan, $"a value of {payload.Length} bytes is shorter than the array header");

        var dimensions = BinaryPrimitives.ReadInt32LittleEndian(payload);
        var dataOffset = BinaryPrimitives.ReadInt32LittleEndian(payload[4..]);
        var elementType = BinaryPrimitives.ReadUInt32LittleEndian(payload[8..]);
        if (dimensions is < 0 or > MaxDimensions) throw Corrupt(plan, $"{dimensions} dimensions");

        var boundsAt = 12;
        if (payload.Length < boundsAt + 8 * dimensions) throw Corrupt(plan, "dimensions run past the value");
        var items = 1L;
        for (var d = 0; d < dimensions; d++)
        {
            var length = BinaryPrimitives.ReadInt32LittleEndian(payload[(boundsAt + 4 * d)..]);
            if (length < 0) throw Corrupt(plan, $"dimension {d + 1} has length {length}");
            items *= length;
            if (items > int.MaxValue) throw Corrupt(plan, "too many elements");
        }

        if (dimensions == 0) items = 0;

        output.WriteInt32(dimensions);
        output.WriteInt32(dataOffset != 0 ? 1 : 0);
        output.WriteUInt32(elementType);
        for (var d = 0; d < dimensions; d++)
        {
            output.WriteInt32(BinaryPrimitives.ReadInt32LittleEndian(payload[(boundsAt + 4 * d)..]));
            output.WriteInt32(BinaryPrimitives.ReadInt32LittleEndian(payload[(boundsAt + 4 * (dimensions + d))..]));
        }

        var bitmapAt = boundsAt + 8 * dimensions;
        ReadOnlySpan<byte> bitmap = default;
        int position; // in array coordinates: payload index + HeaderSize
        if (dataOffset != 0)
        {
            var bitmapBytes = (int)((items + 7) / 8);
            if (bitmapAt + bitmapBytes > payload.Length || dataOffset - HeaderSize < bitmapAt + bitmapBytes || dataOffset - HeaderSize > payload.Length)
                throw Corrupt(plan, $"null bitmap or data offset {dataOffset} does not fit");
            bitmap = payload.Slice(bitmapAt, bitmapBytes);
            position = dataOffset;
        }
        else
        {
            position = TypeAlignment.Align(bitmapAt + HeaderSize, 8);
        }

        var alignment = TypeAlignment.ToBytes(element.Alignment);
        for (var i = 0; i < items; i++)
        {
            if (!bitmap.IsEmpty && (bitmap[i >> 3] & (1 << (i & 7))) == 0)
            {
                output.WriteInt32(-1);
                continue;
            }

            position = TypeAlignment.Align(position, alignment);
            var at = position - HeaderSize;
            if (at >= payload.Length) throw Corrupt(plan, $"element {i + 1} starts past the end of the value");
            var lengthAt = output.BeginField();
            if (element.Length > 0)
            {
                if (at + element.Length > payload.Length) throw Corrupt(plan, $"element {i + 1} runs past the end of the value");
                converter.Write(element, payload.Slice(at, element.Length), output);
                position += element.Length;
            }
            else if (element.Length == -1)
            {
                ReadOnlySpan<byte> stored;
                try
                {
                    stored = payload[at..(at + Varlena.TotalSize(payload[at..]))];
                    converter.Write(element, Varlena.Payload(stored), output);
                }
                catch (VarlenaFormatException e)
                {
                    throw Corrupt(plan, $"element {i + 1}: {e.Message}");
                }

                position += stored.Length;
            }
            else
            {
                throw new UnsupportedTypeException($"{plan.Name}: element type {element.Name} has length {element.Length}");
            }

            output.EndField(lengthAt);
        }
    }

    private static DatumFormatException Corrupt(TypePlan plan, string what) => new($"{plan.Name}: {what}");
}
